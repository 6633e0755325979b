import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/*
 * Starts runs from one long-lived launcher process. The launcher is launcher.c, built with the
 * system's C compiler where there is one (nativeLauncher), or else the Perl program below; both
 * follow the protocol described here, line for line. The C one exists for speed: on this project's
 * 2-core VMs process creation is most of what a short run costs, and it makes one process per run
 * (the command) where the Perl one makes two (a wrapper, then the command) from a larger process.
 *
 * Why not spawn from Node: fork() copies the forking process's page tables and Node's spawn waits,
 * on its only thread, until the child has exec'd: 7–30 ms per run from a Node process of a few
 * hundred MB on an idle 2-core machine, ~90 ms in a busy agent (measured: 160 MB RSS 7 ms, 470 MB
 * 18 ms, 1.2 GB 27 ms; a profiled agent spent 44 of its 74 busy seconds in spawn).
 * Why not a shell wrapper: dropping to the org's user and reading the job's environment as that user
 * took setsid, sh, setpriv and sh again before the command: five execs.
 *
 * Protocol: one request per line on stdin, the path of a run folder holding a `spec` file (0600;
 * fields separated by NUL: uid, gid (both empty: run as the agent's user), workdir, cgroup.procs path
 * (empty: none), the number of environment entries, the entries `NAME=value`, then the argv; written
 * by writeRunSpec). The launcher answers, one line per request, in order, the pid of the run's
 * session leader (`error <why>` when it cannot start the run); that pid's process group is the run's.
 * The run (its processes start as root, if the agent is): its own session, in its cgroup (a run
 * that cannot join does not run: exit 125), stdin from /dev/null, stdout and stderr appended to the
 * run folder's files. The command: drops to the org's user (no supplementary groups, no_new_privs:
 * no setuid program can raise it back), enters the workdir as that user (126 when it cannot), gets
 * exactly the job's environment and execs the argv as a program found on PATH, never a shell
 * builtin (127 when there is no such program, 126 when it cannot be run). Nothing of the agent's
 * reaches it: every file the launcher opens is close-on-exec.
 * How the run ended goes to `exit`: the exit status, or 128 + the signal, as a shell reports it, in
 * one write ending in a newline (readExit takes only a whole line), before the run's process is
 * reaped, so a run is never seen gone without it (a zombie counts as alive). Then `ended <exit file>`
 * on stdout (one write of a line under 4 KiB), so the connector looks at a run when it ends instead
 * of polling every run's files. Runs outlive the agent and the launcher's stdin: closing it ends no
 * run, and every run's end is still recorded.
 * - C (launcher.c): the command is the session leader, started straight into its cgroup sharing the
 *   launcher's memory until it execs; the launcher is its parent and records its end. It ignores
 *   SIGTERM and EPIPE and exits once stdin is closed and its last run has ended.
 * - Perl (below): a wrapper per run is the session leader; it forks the command, waits for it and
 *   records its end (it catches SIGTERM, sent to the whole session on a stop, to outlive the
 *   command). A wrapper whose agent is gone gets EPIPE on `ended`, after its exit file is safe.
 */
const LAUNCHER = String.raw`
use strict; use warnings; use POSIX ();
my $nnp = $ARGV[0];          # the prctl syscall number on this architecture; 0 when unknown
my $mask = umask;
$| = 1;
open(my $notify, '>&', \*STDOUT) or die "dup: $!";
select((select($notify), $| = 1)[0]);
$SIG{CHLD} = sub { 1 while waitpid(-1, POSIX::WNOHANG()) > 0 };
while (defined(my $dir = <STDIN>)) {
  chomp $dir;
  my $pid = fork;
  if (!defined $pid) { print "error fork: $!\n"; next }
  if ($pid == 0) { $SIG{CHLD} = 'DEFAULT'; wrapper($dir); POSIX::_exit(0) }
  print "$pid\n";
}

sub finish {
  my ($dir, $code) = @_;
  if (open(my $f, '>', "$dir/exit")) { print $f "$code\n"; close $f }
  print $notify "ended $dir/exit\n";
  POSIX::_exit(0);
}

sub wrapper {
  my ($dir) = @_;
  POSIX::setsid();
  open(my $in, '<', "$dir/spec") or finish($dir, 125);
  my @f = do { local $/; split /\0/, scalar(<$in>), -1 };
  close $in;
  my ($uid, $gid, $workdir, $procs, $nenv) = splice @f, 0, 5;
  my @env = splice @f, 0, $nenv;
  my @argv = @f;
  if ($procs ne '') {
    my $p;
    my $ok = open($p, '>', $procs) && print($p "$$\n") && close($p);
    finish($dir, 125) unless $ok;
  }
  open(STDIN, '<', '/dev/null') or finish($dir, 125);
  umask 077;
  open(STDOUT, '>>', "$dir/stdout") or finish($dir, 125);
  open(STDERR, '>>', "$dir/stderr") or finish($dir, 125);
  umask $mask;
  $SIG{TERM} = sub {};
  my $child = fork;
  finish($dir, 125) unless defined $child;
  if ($child == 0) { command($uid, $gid, $workdir, \@env, \@argv) }
  waitpid($child, 0);
  finish($dir, ($? & 127) ? 128 + ($? & 127) : $? >> 8);
}

sub command {
  my ($uid, $gid, $workdir, $env, $argv) = @_;
  $SIG{TERM} = 'DEFAULT';
  if ($uid ne '') {
    $) = "$gid $gid";
    POSIX::setgid($gid) or fail(125, "setgid $gid: $!");
    POSIX::setuid($uid) or fail(125, "setuid $uid: $!");
    fail(125, "still privileged after setuid") if $< != $uid || $> != $uid || $( + 0 != $gid || $) + 0 != $gid;
    fail(125, "no_new_privs is unknown on this architecture") unless $nnp;
    syscall($nnp, 38, 1, 0, 0, 0) == 0 or fail(125, "no_new_privs: $!");
  }
  chdir($workdir) or fail(126, "cannot enter the workdir $workdir: $!");
  %ENV = ();
  for (@$env) { my ($k, $v) = split /=/, $_, 2; $ENV{$k} = $v }
  { no warnings 'exec'; exec { $argv->[0] } @$argv; }
  my $missing = $!{ENOENT} || $!{ENOTDIR};
  fail($missing ? 127 : 126, "$argv->[0]: " . ($missing ? 'not found' : "$!"));
}

sub fail { my ($code, $why) = @_; print STDERR "suanwang: $why\n"; POSIX::_exit($code) }
`;

/** prctl's syscall number where we know it (for PR_SET_NO_NEW_PRIVS); 0 elsewhere. */
const PRCTL: Partial<Record<NodeJS.Architecture, number>> = { x64: 157, arm64: 167, riscv64: 167, ia32: 172 };

/** What a run gets (the fields of its `spec`, above). */
export interface RunSpec {
  /** The org's user and group the command runs as; null: the agent's own. */
  readonly uid: number | null;
  readonly gid: number | null;
  readonly workdir: string;
  /** The run's cgroup.procs file; null: no cgroup. */
  readonly cgroupProcs: string | null;
  /** Exactly the command's environment, `NAME=value` each. */
  readonly environment: readonly string[];
  readonly argv: readonly string[];
}

/** Writes `<dir>/spec` (0600) for the launcher; throws when a field holds a NUL byte (it ends fields). */
export function writeRunSpec(dir: string, spec: RunSpec): void {
  const fields = [spec.uid === null ? '' : String(spec.uid), spec.gid === null ? '' : String(spec.gid), spec.workdir, spec.cgroupProcs ?? '', String(spec.environment.length), ...spec.environment, ...spec.argv];
  const withNul = fields.find((f) => f.includes('\0'));
  if (withNul !== undefined) throw new Error(`the run's command, environment or workdir holds a NUL byte (${JSON.stringify(withNul.slice(0, 80))}); a program cannot be given one`);
  writeFileSync(join(dir, 'spec'), fields.join('\0'), { mode: 0o600 });
}

/** Which launcher runs: `native` is launcher.c built with the system's C compiler, `perl` the one above. */
export type LauncherKind = 'native' | 'perl';

/** The package's root (src/agent/connectors/ and dist/agent/connectors/ are both three levels down). */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NATIVE_SOURCE = fileURLToPath(new URL('./launcher.c', import.meta.url));
let native: { path: string | null; why: string } | null = null;

/**
 * The native launcher's program, built on first use into the package's
 * `.native/launcher-<sha256 of launcher.c>`: a changed source is rebuilt, never run stale. Null, with
 * the reason, when there is no C compiler (`cc`) or the build fails: the Perl launcher is used then,
 * with the same protocol and behaviour (both are tested by the connector's suites).
 */
export function nativeLauncher(): { path: string | null; why: string } {
  if (native) return native;
  try {
    const source = readFileSync(NATIVE_SOURCE);
    const path = `${PACKAGE_ROOT}.native/launcher-${createHash('sha256').update(source).digest('hex').slice(0, 16)}`;
    if (!existsSync(path)) {
      mkdirSync(`${PACKAGE_ROOT}.native`, { recursive: true, mode: 0o755 });
      const building = `${path}.${process.pid}.tmp`;
      try {
        execFileSync(process.env.CC ?? 'cc', ['-O2', '-Wall', '-o', building, NATIVE_SOURCE], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
        chmodSync(building, 0o755);
        renameSync(building, path); // whole or not at all, also when agents build it at once
        // Builds of earlier sources are not run again (a running launcher keeps its own copy).
        for (const name of readdirSync(`${PACKAGE_ROOT}.native`)) {
          if (/^launcher-[0-9a-f]{16}$/.test(name) && `${PACKAGE_ROOT}.native/${name}` !== path) rmSync(`${PACKAGE_ROOT}.native/${name}`, { force: true });
        }
      } finally {
        rmSync(building, { force: true });
      }
    }
    native = { path, why: 'built from launcher.c' };
  } catch (error) {
    const message = (error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message;
    native = { path: null, why: `the C launcher could not be built (${message.split('\n')[0]}); runs start from the Perl launcher` };
  }
  return native;
}

/** The long-lived launcher described above. */
export class Launcher {
  readonly #onEnded: (exitFile: string) => void;
  readonly #kind: LauncherKind;
  #process: ChildProcess | null = null;
  /** Resolvers of the requests written and not yet answered, oldest first. */
  #waiting: { resolve: (pid: number) => void; reject: (error: Error) => void }[] = [];

  /**
   * `onEnded` is told the exit file of each run that ends (see above). `kind` picks the launcher:
   * by default the native one where it can be built, else Perl.
   */
  constructor(onEnded: (exitFile: string) => void = () => undefined, kind?: LauncherKind) {
    this.#onEnded = onEnded;
    this.#kind = kind ?? (nativeLauncher().path ? 'native' : 'perl');
  }

  /** The launcher this instance starts runs from. */
  get kind(): LauncherKind {
    return this.#kind;
  }

  /** Starts the run whose `spec` is in `dir` and resolves to its wrapper's pid. */
  launch(dir: string): Promise<number> {
    if (dir.includes('\n')) return Promise.reject(new Error(`a run folder's path may not hold a newline: ${JSON.stringify(dir)}`));
    let launcher: ChildProcess;
    try {
      launcher = this.#ensure();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return new Promise<number>((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#hold(launcher, true);
      launcher.stdin!.write(dir + '\n');
    });
  }

  /** Ends the launcher (runs it started go on); requests not yet answered are rejected. */
  close(): void {
    const launcher = this.#process;
    this.#process = null;
    if (launcher) {
      launcher.stdin!.end();
      launcher.kill('SIGTERM');
    }
    this.#fail(new Error('the launcher was closed'));
  }

  #ensure(): ChildProcess {
    if (this.#process) return this.#process;
    const program = this.#kind === 'native' ? nativeLauncher().path : null;
    if (this.#kind === 'native' && !program) throw new Error(nativeLauncher().why);
    const launcher = spawn(program ?? 'perl', program ? [] : ['-e', LAUNCHER, String(PRCTL[process.arch] ?? 0)], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
    });
    this.#process = launcher;
    launcher.stdin!.on('error', () => undefined); // EPIPE after it died: handled on 'exit'
    createInterface({ input: launcher.stdout! }).on('line', (line) => {
      if (line.startsWith('ended ')) {
        this.#onEnded(line.slice('ended '.length));
        return;
      }
      const waiter = this.#waiting.shift();
      if (this.#waiting.length === 0) this.#hold(launcher, false);
      if (!waiter) return;
      const pid = Number(line);
      if (Number.isSafeInteger(pid) && pid > 0) waiter.resolve(pid);
      else waiter.reject(new Error(line.startsWith('error ') ? line.slice('error '.length) : `the launcher answered '${line}' instead of a pid`));
    });
    const gone = (why: string) => {
      if (this.#process !== launcher) return;
      this.#process = null;
      this.#fail(new Error(`the launcher ${why}; the next start makes a new one`));
    };
    launcher.once('error', (error) => gone(`could not run perl: ${error.message}`));
    launcher.once('exit', (code, signal) => gone(`exited (${signal ?? code})`));
    this.#hold(launcher, false);
    return launcher;
  }

  /** Keeps the process alive while requests wait for their answer, and only then. */
  #hold(launcher: ChildProcess, on: boolean): void {
    for (const handle of [launcher, launcher.stdin, launcher.stdout] as unknown as { ref?: () => void; unref?: () => void }[]) {
      if (on) handle.ref?.();
      else handle.unref?.();
    }
  }

  #fail(error: Error): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) w.reject(error);
  }
}
