/**
 * A log function writing one JSON object per line to stderr (`{"time","level","pid","msg"}`), the
 * shape operators' log collectors read. Lines that speak of an error or a loss are `warn`.
 */
export function jsonLog(component: string): (line: string) => void {
  return (line) => {
    const level = /error|lost|fail|cannot/i.test(line) ? 'warn' : 'info';
    process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, pid: process.pid, component, msg: line }) + '\n');
  };
}

/** Resolves on the first SIGINT or SIGTERM (the handlers are removed then, so a second one kills). */
export function shutdownSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (name: string) => () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(name);
    };
    const onInt = on('SIGINT');
    const onTerm = on('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}
