import { describe, expect, it } from 'vitest';
import { commandForKey, PAGE } from '../src/lib/keys';

describe('commandForKey', () => {
  it('maps the popover keys', () => {
    expect(commandForKey({ key: 'ArrowDown' })).toEqual({ kind: 'move', delta: 1 });
    expect(commandForKey({ key: 'ArrowUp' })).toEqual({ kind: 'move', delta: -1 });
    expect(commandForKey({ key: 'PageDown' })).toEqual({ kind: 'move', delta: PAGE });
    expect(commandForKey({ key: 'Home' })).toEqual({ kind: 'first' });
    expect(commandForKey({ key: 'End' })).toEqual({ kind: 'last' });
    expect(commandForKey({ key: 's' })).toEqual({ kind: 'toggle' });
    expect(commandForKey({ key: 'R' })).toEqual({ kind: 'restart' });
    expect(commandForKey({ key: 'l' })).toEqual({ kind: 'logs' });
    expect(commandForKey({ key: 'Enter' })).toEqual({ kind: 'logs' });
    expect(commandForKey({ key: 'e' })).toEqual({ kind: 'edit' });
    expect(commandForKey({ key: 'n' })).toEqual({ kind: 'new' });
    expect(commandForKey({ key: 'Escape' })).toEqual({ kind: 'hide' });
  });

  it('leaves modified keys and others to the system', () => {
    expect(commandForKey({ key: 'r', metaKey: true })).toBeNull();
    expect(commandForKey({ key: 'r', ctrlKey: true })).toBeNull();
    expect(commandForKey({ key: 's', altKey: true })).toBeNull();
    expect(commandForKey({ key: 'x' })).toBeNull();
    expect(commandForKey({ key: 'Tab' })).toBeNull();
  });
});
