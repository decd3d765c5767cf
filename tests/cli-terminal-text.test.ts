// Strings from files (tensor names, labels) reach the terminal through the CLI: control characters are shown, never obeyed.
import { describe, expect, it } from 'vitest';
import { terminalSafe } from '../src/cli/terminal-text.ts';

describe('terminalSafe', () => {
  it('shows escape sequences and other control characters as \\xNN, keeps text, newlines, carriage returns and tabs', () => {
    expect(terminalSafe('tensor \u001b]0;owned\u0007 name\u001b[2J\n')).toBe('tensor \\x1b]0;owned\\x07 name\\x1b[2J\n');
    expect(terminalSafe('\u009b31m C1 CSI')).toBe('\\x9b31m C1 CSI');
    expect(terminalSafe('progress\r[####]\tdone\n')).toBe('progress\r[####]\tdone\n');
    expect(terminalSafe('Ünïcödé 模型 ✓')).toBe('Ünïcödé 模型 ✓');
  });
});
