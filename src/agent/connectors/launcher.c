/*
 * Suanwang's run launcher, in C: the protocol of launcher.ts (read the comment there first), built
 * once per source version with the system's C compiler (launcher.ts, nativeLauncher). It exists
 * because process creation is what a short run costs. Unlike the Perl launcher it keeps no wrapper
 * process per run: it starts each command itself, sharing its memory until the exec (no page tables
 * copied), directly inside the run's cgroup, and as the command's parent it records how each run
 * ended. It goes on after its agent has gone (EOF on stdin, SIGTERM), until its last run has ended,
 * so runs outlive agent restarts and are still recorded. Measured on a 2-core VM, 2,000 runs of
 * `true` through 3 launchers and nothing else (bench/support/process-floor.ts): 150–170 runs/s and
 * 7.9 ms of CPU per run with a wrapper per run, 415–440 runs/s and 3.9 ms without.
 *
 * stdin: one run folder per line. stdout: the command's pid (or `error <why>`) per request, in
 * order, and `ended <folder>/exit` when a run has ended. Each line is written with one write(2)
 * of less than PIPE_BUF bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
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

/* Records how a run ended in `<dir>/exit` (one write, ending in a newline). */
static void record_exit(const char *dir, int code) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/exit", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd >= 0) {
    say(fd, "%d\n", code);
    close(fd);
  }
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

/* Drops to the org's user (when given), enters the workdir, execs the argv with exactly `env`. */
static void command(const char *uid_text, const char *gid_text, const char *workdir, char **env, char **argv) {
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

/* The runs this launcher started and has not yet seen end: the command's pid and its run folder. */
static struct run {
  pid_t pid;
  char *dir;
} *runs;
static size_t run_count, run_capacity;

static int remember(pid_t pid, const char *dir) {
  if (run_count == run_capacity) {
    size_t capacity = run_capacity ? run_capacity * 2 : 64;
    struct run *bigger = realloc(runs, capacity * sizeof *runs);
    if (!bigger) return -1;
    runs = bigger;
    run_capacity = capacity;
  }
  char *copy = strdup(dir);
  if (!copy) return -1;
  runs[run_count++] = (struct run){pid, copy};
  return 0;
}

/*
 * In the run's new process, before the command: default signal handling with nothing blocked (the
 * launcher blocks SIGCHLD for its signalfd and ignores SIGPIPE and SIGTERM), its own session, the
 * cgroup when the process was not created in it (a run that cannot join does not run: exit 125),
 * stdin from /dev/null, stdout and stderr appended to the run's files. Never returns.
 *
 * It runs in the launcher's memory (see start_run): it writes no variable the launcher reads
 * afterwards but `environ`, which the launcher puts back.
 */
static void __attribute__((noinline, noreturn)) run_child(const char *dir, struct spec *spec, int in_cgroup) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGCHLD, &dfl, NULL);
  sigaction(SIGPIPE, &dfl, NULL);
  sigaction(SIGTERM, &dfl, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  setsid();
  char **fields = spec->fields;
  if (fields[3][0] != '\0' && !in_cgroup) {
    int fd = open(fields[3], O_WRONLY | O_CLOEXEC);
    if (fd < 0) _exit(125);
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    int ok = write(fd, pid, (size_t)n) == n;
    if (close(fd) != 0) ok = 0;
    if (!ok) _exit(125);
  }
  int in = open("/dev/null", O_RDONLY);
  if (in < 0 || dup2(in, 0) < 0) _exit(125);
  if (in != 0) close(in);
  umask(077);
  char path[PATH_MAX];
  const char *streams[2] = {"stdout", "stderr"};
  for (int s = 0; s < 2; s++) {
    snprintf(path, sizeof path, "%s/%s", dir, streams[s]);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0666);
    if (fd < 0 || dup2(fd, s + 1) < 0) _exit(125);
    if (fd != s + 1) close(fd);
  }
  umask(start_mask);
  command(fields[0], fields[1], fields[2], spec->env, spec->argv);
  _exit(127); /* command() never returns */
}

#if defined(__x86_64__) && defined(SYS_clone3) && defined(CLONE_INTO_CGROUP)
/*
 * clone3 as vfork: the child shares the launcher's memory and stack (stack 0) and the launcher sleeps
 * until the child execs or exits, so no page tables are copied. Issued inline, so no call frame of
 * a syscall() wrapper is left for the child to overwrite (the reason glibc's vfork is assembly).
 */
static inline __attribute__((always_inline)) long clone3_inline(struct clone_args *args) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_clone3), "D"(args), "S"(sizeof *args) : "rcx", "r11", "memory");
  return ret;
}
#define HAVE_CLONE3_VFORK 1
#endif

/*
 * Starts a run: a new process made directly inside the run's cgroup v2 (clone3 with
 * CLONE_INTO_CGROUP, Linux 5.7+; moving it in afterwards by writing cgroup.procs cost more than the
 * process itself on our VMs) that shares the launcher's memory until it execs (CLONE_VM |
 * CLONE_VFORK, as posix_spawn does). Where that is not available (another architecture, an older
 * kernel, a v1 hierarchy, no cgroup) vfork(), and the child joins the cgroup by writing. Returns the
 * command's pid, or -1 with errno.
 */
static pid_t start_run(const char *dir, struct spec *spec) {
  char **saved_environ = environ;
  pid_t pid = -1;
  int done = 0;
#ifdef HAVE_CLONE3_VFORK
  const char *procs = spec->fields[3];
  size_t n = strlen(procs);
  const char *suffix = "/cgroup.procs";
  size_t k = strlen(suffix);
  char group[PATH_MAX];
  if (n > k && n - k < sizeof group && strcmp(procs + n - k, suffix) == 0) {
    memcpy(group, procs, n - k);
    group[n - k] = '\0';
    int fd = open(group, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      struct clone_args args;
      memset(&args, 0, sizeof args);
      args.flags = CLONE_VM | CLONE_VFORK | CLONE_INTO_CGROUP;
      args.exit_signal = SIGCHLD;
      args.cgroup = (unsigned long long)fd;
      long r = clone3_inline(&args);
      if (r == 0) run_child(dir, spec, 1);
      int saved = -r;
      close(fd);
      if (r > 0) {
        pid = (pid_t)r;
        done = 1;
      } else if (saved == EAGAIN || saved == ENOMEM) {
        errno = saved;
        done = 1;
      }
    }
  }
#endif
  if (!done) {
    pid = vfork();
    if (pid == 0) run_child(dir, spec, 0);
  }
  environ = saved_environ; /* the child set it to the run's environment before exec */
  return pid;
}

/* Every child that has ended: record how (before it is reaped, so that it never reads as gone
 * without a trace), reap it, tell the agent. */
static void collect(void) {
  for (;;) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
    pid_t pid = info.si_pid;
    int code = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
    size_t i = 0;
    while (i < run_count && runs[i].pid != pid) i++;
    if (i < run_count) record_exit(runs[i].dir, code);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    if (i < run_count) {
      say(notify_fd, "ended %s/exit\n", runs[i].dir);
      free(runs[i].dir);
      runs[i] = runs[--run_count];
    }
  }
}

/* One request: the run folder `line`. Answers the command's pid, or `error <why>`. */
static void request(const char *line) {
  struct spec spec;
  if (parse_spec(line, &spec) != 0) {
    say(1, "error cannot read the run's spec in %s\n", line);
  } else {
    pid_t pid = start_run(line, &spec);
    if (pid < 0) {
      say(1, "error cannot start the run: %s\n", strerror(errno));
    } else {
      if (remember(pid, line) != 0) say(2, "suanwang launcher: out of memory: run %s will read as gone when it ends\n", line);
      say(1, "%d\n", (int)pid);
    }
  }
  free_spec(&spec);
}

int main(void) {
  start_mask = umask(0);
  umask(start_mask);
  notify_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (notify_fd < 0) return 1;
  /* The agent may go away (EPIPE) or stop us (SIGTERM): runs started here are recorded to the end. */
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  sigset_t children;
  sigemptyset(&children);
  sigaddset(&children, SIGCHLD);
  sigprocmask(SIG_BLOCK, &children, NULL);
  int sfd = signalfd(-1, &children, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) return 1;
  int flags = fcntl(0, F_GETFL);
  if (flags < 0 || fcntl(0, F_SETFL, flags | O_NONBLOCK) != 0) return 1;

  /* Requests, one run folder per line; read as they come, so that ends are collected meanwhile. */
  size_t size = PATH_MAX + 2, used = 0;
  char *buffer = malloc(size);
  if (!buffer) return 1;
  int reading = 1;
  while (reading || run_count > 0) {
    struct pollfd fds[2] = {{reading ? 0 : -1, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (fds[1].revents) {
      struct signalfd_siginfo ignored;
      while (read(sfd, &ignored, sizeof ignored) > 0) {}
      collect();
    }
    if (reading && fds[0].revents) {
      ssize_t n = read(0, buffer + used, size - used);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) {
        reading = 0;
        collect();
        continue;
      }
      used += (size_t)n;
      char *start = buffer, *end;
      while ((end = memchr(start, '\n', used - (size_t)(start - buffer)))) {
        *end = '\0';
        request(start);
        start = end + 1;
      }
      used -= (size_t)(start - buffer);
      memmove(buffer, start, used);
      if (used == size) used = 0; /* a line longer than any path: dropped (the agent never sends one) */
      collect();
    }
  }
  return 0;
}
