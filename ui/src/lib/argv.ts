// What a command line turns into, for display next to the field. The engine parses it with
// shlex (POSIX rules); this mirrors those rules closely enough to show the argv. Errors
// (an unclosed quote) come from validate_job, with the engine's own wording.

/** The argv, or null when quoting is unbalanced. */
export function splitCommand(command: string): string[] | null {
  const out: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < command.length) {
    const c = command[i];
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) return null;
      word += command.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i += 1;
      let closed = false;
      while (i < command.length) {
        const d = command[i];
        if (d === '"') {
          closed = true;
          i += 1;
          break;
        }
        // Inside double quotes a backslash escapes only these.
        if (d === '\\' && i + 1 < command.length && '"\\$`\n'.includes(command[i + 1])) {
          if (command[i + 1] !== '\n') word += command[i + 1];
          i += 2;
          continue;
        }
        word += d;
        i += 1;
      }
      if (!closed) return null;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= command.length) return null;
      if (command[i + 1] !== '\n') {
        word += command[i + 1];
        inWord = true;
      }
      i += 2;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
      i += 1;
    } else if (c === '#' && !inWord) {
      // A comment runs to the end of the line.
      const nl = command.indexOf('\n', i);
      i = nl < 0 ? command.length : nl;
    } else {
      word += c;
      inWord = true;
      i += 1;
    }
  }
  if (inWord) out.push(word);
  return out;
}

/** The argv the engine runs: through /bin/sh -c with `shell`, else the split command. */
export function commandArgv(command: string, shell: boolean): string[] | null {
  if (shell) return ['/bin/sh', '-c', command];
  return splitCommand(command);
}
