// Keyboard map of the popover. Plain data so it is testable and documented in one place.

export type KeyCommand =
  | { kind: 'move'; delta: number }
  | { kind: 'first' }
  | { kind: 'last' }
  | { kind: 'toggle' }
  | { kind: 'restart' }
  | { kind: 'logs' }
  | { kind: 'edit' }
  | { kind: 'new' }
  | { kind: 'hide' };

/** Rows a PageUp/PageDown moves: about one popover height. */
export const PAGE = 10;

export interface KeyInput {
  key: string;
  metaKey?: boolean;
  ctrlKey?: boolean;
  altKey?: boolean;
}

/** The command for a key press, or null to let the browser handle it. */
export function commandForKey(e: KeyInput): KeyCommand | null {
  // Leave shortcuts of the system and the webview alone (Cmd+Q, Ctrl+R, …).
  if (e.metaKey || e.ctrlKey || e.altKey) return null;
  switch (e.key) {
    case 'ArrowDown':
    case 'j':
      return { kind: 'move', delta: 1 };
    case 'ArrowUp':
    case 'k':
      return { kind: 'move', delta: -1 };
    case 'PageDown':
      return { kind: 'move', delta: PAGE };
    case 'PageUp':
      return { kind: 'move', delta: -PAGE };
    case 'Home':
      return { kind: 'first' };
    case 'End':
      return { kind: 'last' };
    case 's':
    case 'S':
      return { kind: 'toggle' };
    case 'r':
    case 'R':
      return { kind: 'restart' };
    case 'l':
    case 'L':
    case 'Enter':
      return { kind: 'logs' };
    case 'e':
    case 'E':
      return { kind: 'edit' };
    case 'n':
    case 'N':
      return { kind: 'new' };
    case 'Escape':
      return { kind: 'hide' };
    default:
      return null;
  }
}
