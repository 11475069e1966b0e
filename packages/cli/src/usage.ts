const target = `  --url <url>              where elections live (default: $ELECTOR_URL):
                           etcd://host:2379[,host:2379][/prefix][?ttl=10], etcds://user:pass@…,
                           zk://host:2181[,…][/path], memory://[name]
  --election <name>        the election's name, e.g. billing-cron
  --connect-timeout <dur>  give up when the server does not answer within this (default: 10s)
  --log-level <level>      trace, debug, info, warn, error, fatal or silent (default: info);
                           the log is JSON lines (pino) on stderr
  -h, --help               show this help`;

/** Every command's `--help`, and the overview's. */
export const usage = Object.freeze({
  elector: `Usage: elector <command> [flags]

Leader election over etcd, ZooKeeper or memory.

Commands:
  run            run a command only while this process leads the election
  leader         print the current leader
  observe        print the leader, then one line per change
  participants   print every candidate in line order, the leader first

Flags:
  -h, --help     show help (also: elector <command> --help)
  --version      print the version

Exit codes: 0 done, 1 failed (e.g. the server cannot be reached), 2 usage error;
elector run exits with its command's code, or 75 when --timeout or --try gave up.
`,
  run: `Usage: elector run --url <url> --election <name> [flags] -- <command> [args…]

Runs <command> only while this process leads the election, like consul lock or etcdctl elect.
The command gets ELECTOR_FENCING_TOKEN (the term's fencing token), ELECTOR_LEADER_ID and
ELECTOR_ELECTION in its environment. When leadership is lost, the command gets SIGTERM, then
SIGKILL after the grace period, and elector campaigns again (unless --once). When the command
exits by itself, elector resigns and exits with the command's code. SIGINT, SIGTERM, SIGHUP,
SIGQUIT, SIGUSR1 and SIGUSR2 are forwarded to the command; a stop signal received while no
command runs ends elector at once. The command runs in a process group of its own: signals
reach all its processes, what it leaves running when it exits is killed, and a watchdog
kills the group if elector itself dies (even by SIGKILL).

Flags:
${target}
  --id <id>                this candidate's id (default: <hostname>-<pid>-<random>)
  --value <value>          what this candidate advertises while leading (default: its id)
  --ttl <dur>              etcd lease TTL (whole seconds) or ZooKeeper session timeout
                           (default: the URL's, else 10s)
  --grace <dur>            how long the command has to exit after SIGTERM on a loss before it
                           gets SIGKILL (default: the backend's safety margin in force at the
                           loss, so that it is gone before the server can elect another
                           leader; on ZooKeeper it follows the session timeout granted)
  --once                   do not campaign again after a loss; exit with the command's code
  --timeout <dur>          give up a campaign not won within this: exit 75, command never run
  --try                    one attempt: run the command if leadership is free now, else exit 75
  --allow-memory           allow --url memory://, which elects within this process only: every
                           elector run on it leads at once (for trying elector out)
  --quiet                  short for --log-level warn

Durations: 10 or 10s (seconds), 500ms, 1m.

Example:
  elector run --url etcd://127.0.0.1:2379 --election billing-cron --ttl 5 -- node cron.js
`,
  leader: `Usage: elector leader --url <url> --election <name> [--json]

Prints the current leader: "<id> token=<token> value=<value>", or "(no leader)".

Flags:
${target}
  --json                   print {"id","value","token"} or null; the token as a string
`,
  observe: `Usage: elector observe --url <url> --election <name> [--json]

Prints the current leader, then one line per change (a new leader, a new value, or no
leader), each with the time, until interrupted (SIGINT or SIGTERM; exits 0).

Flags:
${target}
  --json                   one JSON object per line: {"time","leader":{"id","value","token"}|null}
`,
  participants: `Usage: elector participants --url <url> --election <name> [--json]

Prints every candidate in line order, one per line, the leader first and marked with "*".

Flags:
${target}
  --json                   a JSON array of {"id","value","token","leader"}
`,
});

/** The help of `topic` (a command, or `elector`), if there is such a command. */
export function usageOf(topic: string): string | undefined {
  return Object.hasOwn(usage, topic) ? usage[topic as keyof typeof usage] : undefined;
}
