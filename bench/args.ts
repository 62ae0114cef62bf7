/** A benchmark's command line, read the same way by every benchmark. */
const args = process.argv.slice(2);

/** The word after `name`, or `fallback` when the option is absent. */
export function option(name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}

export const numberOption = (name: string, fallback: number): number => Number(option(name, String(fallback)));

/** Whether a bare switch such as `--no-write` was given. */
export const flag = (name: string): boolean => args.includes(name);
