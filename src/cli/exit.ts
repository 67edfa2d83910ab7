// Ending the process when a command is done. A finished run must not linger because something still holds
// the event loop (an open archive, a worker pool, a timer of a library): once stdout and stderr have
// drained, the process exits with the command's code. Long-lived commands (serve) are not ended.

/** Exits with `code` after pending writes to stdout and stderr reach their pipes or files. */
export function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

/** Commands that keep running after their action returns. */
const LONG_LIVED = new Set(['serve']);

/** True when the command named on the command line ends when its action returns. */
export function endsWithAction(argv: readonly string[]): boolean {
  const command = argv.slice(2).find((a) => !a.startsWith('-'));
  return command === undefined || !LONG_LIVED.has(command);
}
