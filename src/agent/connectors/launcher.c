/*
 * Suanwang's run launcher, in C: the same protocol and behaviour as the Perl launcher in launcher.ts
 * (read the comment there first), built once per source version with the system's C compiler
 * (launcher.ts, buildNativeLauncher). It exists because process creation is what a short run costs:
 * a fork of this small process and of its wrapper costs a fraction of a fork of a Perl interpreter,
 * and the wrapper touches few pages before it forks again.
 *
 * stdin: one run folder per line. stdout: the wrapper's pid (or `error <why>`) per request, in
 * order, and `ended <folder>/exit` from each wrapper when its run has ended. Each line is written
 * with one write(2) of less than PIPE_BUF bytes, so lines from many processes never interleave.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The launcher's stdout, kept by each wrapper to say when its run ended; close-on-exec. */
static int notify_fd = -1;
/* The umask the launcher was started with: the run's exit marker and the command get it. */
static mode_t start_mask;

static void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    buf += n;
    len -= (size_t)n;
  }
}

/* One line, written with one write(2) (cut to the buffer when longer). */
static void say(int fd, const char *format, ...) {
  char line[PATH_MAX + 512];
  va_list args;
  va_start(args, format);
  int n = vsnprintf(line, sizeof line, format, args);
  va_end(args);
  if (n > 0) write_all(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* Records how the run ended in `exit` (one write, ending in a newline), tells the agent, exits. */
static void finish(const char *dir, int code) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/exit", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd >= 0) {
    say(fd, "%d\n", code);
    close(fd);
  }
  say(notify_fd, "ended %s/exit\n", dir);
  _exit(0);
}

/* In the command's process: a message on the run's stderr, then the exit code a shell would give. */
static void fail(int code, const char *format, ...) {
  char why[PATH_MAX + 256];
  va_list args;
  va_start(args, format);
  vsnprintf(why, sizeof why, format, args);
  va_end(args);
  say(2, "suanwang: %s\n", why);
  _exit(code);
}

static void ignore(int signal) { (void)signal; }

static void reap(int signal) {
  (void)signal;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {}
  errno = saved;
}

/* Drops to the org's user (when given), enters the workdir, execs the argv with exactly `env`. */
static void command(const char *uid_text, const char *gid_text, const char *workdir, char **env, char **argv) {
  signal(SIGTERM, SIG_DFL);
  if (uid_text[0] != '\0') {
    uid_t uid = (uid_t)strtoul(uid_text, NULL, 10);
    gid_t gid = (gid_t)strtoul(gid_text, NULL, 10);
    if (setgroups(1, &gid) != 0) fail(125, "setgroups %s: %s", gid_text, strerror(errno));
    if (setgid(gid) != 0) fail(125, "setgid %s: %s", gid_text, strerror(errno));
    if (setuid(uid) != 0) fail(125, "setuid %s: %s", uid_text, strerror(errno));
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 || ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid) {
      fail(125, "still privileged after setuid");
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(125, "no_new_privs: %s", strerror(errno));
  }
  if (chdir(workdir) != 0) fail(126, "cannot enter the workdir %s: %s", workdir, strerror(errno));
  environ = env;
  execvp(argv[0], argv);
  int missing = errno == ENOENT || errno == ENOTDIR;
  fail(missing ? 127 : 126, "%s: %s", argv[0], missing ? "not found" : strerror(errno));
}

struct command_args {
  const char *uid, *gid, *workdir;
  char **env, **argv;
};

/* clone()'s entry for the command: it never returns (exec or _exit). */
static int command_entry(void *arg) {
  struct command_args *a = arg;
  command(a->uid, a->gid, a->workdir, a->env, a->argv);
  return 127;
}

/* Reads the whole `spec` file; NULL when it cannot. */
static char *read_spec(const char *dir, size_t *length) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/spec", dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat info;
  if (fstat(fd, &info) != 0) return close(fd), NULL;
  char *text = malloc((size_t)info.st_size + 1);
  size_t got = 0;
  while (text && got < (size_t)info.st_size) {
    ssize_t n = read(fd, text + got, (size_t)info.st_size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fd);
  if (!text || got != (size_t)info.st_size) return free(text), NULL;
  text[got] = '\0';
  *length = got;
  return text;
}

/* A run's spec, parsed: fields separated by NUL: uid, gid, workdir, cgroup.procs, the number of
 * environment entries, the entries, then the argv. */
struct spec {
  char *text;
  char **fields;
  char **env;
  char **argv; /* NULL-terminated */
};

/* Reads and parses `<dir>/spec`; 0 when it is whole and well formed. */
static int parse_spec(const char *dir, struct spec *spec) {
  memset(spec, 0, sizeof *spec);
  size_t length = 0;
  spec->text = read_spec(dir, &length);
  if (!spec->text) return -1;
  size_t count = 1;
  for (size_t i = 0; i < length; i++) count += spec->text[i] == '\0';
  spec->fields = calloc(count + 1, sizeof *spec->fields);
  if (!spec->fields) return -1;
  spec->fields[0] = spec->text;
  for (size_t i = 0, f = 1; i < length; i++) if (spec->text[i] == '\0') spec->fields[f++] = spec->text + i + 1;
  if (count < 6) return -1;
  char *end = NULL;
  unsigned long nenv = strtoul(spec->fields[4], &end, 10);
  if (*spec->fields[4] == '\0' || *end != '\0' || nenv > count - 6) return -1;
  spec->env = calloc(nenv + 1, sizeof *spec->env);
  if (!spec->env) return -1;
  for (size_t i = 0; i < nenv; i++) spec->env[i] = spec->fields[5 + i];
  spec->argv = spec->fields + 5 + nenv;
  return 0;
}

static void free_spec(struct spec *spec) {
  free(spec->env);
  free(spec->fields);
  free(spec->text);
}

/*
 * Creates the wrapper's process directly inside the run's cgroup v2 (clone3 with CLONE_INTO_CGROUP,
 * Linux 5.7+): moving a process in afterwards, by writing its pid to cgroup.procs, cost more CPU on
 * our VMs than the fork itself. Returns like fork(), or -2 when this way is not available here (an
 * older kernel or headers, a v1 hierarchy): the caller forks, and the wrapper joins by writing.
 */
static pid_t fork_into_cgroup(const char *procs) {
#if defined(SYS_clone3) && defined(CLONE_INTO_CGROUP)
  char dir[PATH_MAX];
  size_t n = strlen(procs);
  const char *suffix = "/cgroup.procs";
  size_t k = strlen(suffix);
  if (n <= k || n - k >= sizeof dir || strcmp(procs + n - k, suffix) != 0) return -2;
  memcpy(dir, procs, n - k);
  dir[n - k] = '\0';
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -2;
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = (unsigned long long)fd;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  int saved = errno;
  close(fd);
  if (pid < 0) {
    errno = saved;
    return saved == EAGAIN || saved == ENOMEM ? -1 : -2;
  }
  return (pid_t)pid;
#else
  (void)procs;
  return -2;
#endif
}

/* The run's wrapper: its own session, in its cgroup, output to files, waits for the command.
 * `spec` is NULL when it could not be read; `in_cgroup` says the process was created in the group. */
static void wrapper(const char *dir, struct spec *spec, int in_cgroup) {
  setsid();
  if (!spec) finish(dir, 125);
  char **fields = spec->fields;
  char **env = spec->env;
  char **argv = spec->argv;

  if (fields[3][0] != '\0' && !in_cgroup) {
    int fd = open(fields[3], O_WRONLY | O_CLOEXEC);
    if (fd < 0) finish(dir, 125);
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    int ok = write(fd, pid, (size_t)n) == n;
    if (close(fd) != 0) ok = 0;
    if (!ok) finish(dir, 125);
  }
  int in = open("/dev/null", O_RDONLY);
  if (in < 0 || dup2(in, 0) < 0) finish(dir, 125);
  if (in != 0) close(in);
  umask(077);
  char path[PATH_MAX];
  const char *streams[2] = {"stdout", "stderr"};
  for (int s = 0; s < 2; s++) {
    snprintf(path, sizeof path, "%s/%s", dir, streams[s]);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0666);
    if (fd < 0 || dup2(fd, s + 1) < 0) finish(dir, 125);
    if (fd != s + 1) close(fd);
  }
  umask(start_mask);
  /* A stop SIGTERMs the whole session: the wrapper outlives the command to record how it ended. */
  struct sigaction term = {0};
  term.sa_handler = ignore;
  sigaction(SIGTERM, &term, NULL);

  /*
   * The command's process shares the wrapper's memory until it execs (CLONE_VM | CLONE_VFORK, on a
   * stack of its own, as posix_spawn does): no page tables are copied, and the wrapper sleeps until
   * the exec. Credentials, the working directory, signal dispositions and file descriptors are the
   * child's own; what it writes to memory (`environ`) the wrapper never reads again.
   */
  struct command_args args = {fields[0], fields[1], fields[2], env, argv};
  size_t stack_size = 256 * 1024;
  char *stack = malloc(stack_size);
  if (!stack) finish(dir, 125);
  pid_t child = clone(command_entry, stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  if (child < 0) finish(dir, 125);
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) finish(dir, 125);
  }
  finish(dir, WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
}

int main(void) {
  start_mask = umask(0);
  umask(start_mask);
  notify_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (notify_fd < 0) return 1;
  struct sigaction children = {0};
  children.sa_handler = reap;
  children.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &children, NULL);

  char *line = NULL;
  size_t size = 0;
  ssize_t n;
  while ((n = getline(&line, &size, stdin)) > 0) {
    if (line[n - 1] == '\n') line[--n] = '\0';
    struct spec spec;
    int parsed = parse_spec(line, &spec) == 0;
    int in_cgroup = 0;
    pid_t pid = -2;
    if (parsed && spec.fields[3][0] != '\0') {
      pid = fork_into_cgroup(spec.fields[3]);
      in_cgroup = pid >= 0;
    }
    if (pid == -2) pid = fork();
    if (pid < 0) {
      say(1, "error fork: %s\n", strerror(errno));
    } else if (pid == 0) {
      signal(SIGCHLD, SIG_DFL);
      wrapper(line, parsed ? &spec : NULL, in_cgroup);
      _exit(0);
    } else {
      say(1, "%d\n", (int)pid);
    }
    free_spec(&spec);
  }
  return 0;
}
