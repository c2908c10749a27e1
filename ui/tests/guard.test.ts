// Unit tests of the unsaved-edits guard (lib/guard.ts) and the editor's draft key.
import { defaultSpec, toyDefaults } from './toy-defaults';
import { describe, expect, it } from 'vitest';
import { draftKey, envRow, formFromSpec } from '../src/lib/editor';
import { leaveQuestion, samePage } from '../src/lib/guard';
import type { JobSpec } from '../src/lib/types';

describe('leaveQuestion', () => {
  const api = { page: 'editor', job: 'api' } as const;

  it('lets a clean page go anywhere, the window close included', () => {
    expect(leaveQuestion(api, { page: 'logs', job: 'api' }, false)).toBeNull();
    expect(leaveQuestion(api, 'close', false)).toBeNull();
    expect(leaveQuestion({ page: 'app' }, { page: 'new' }, false)).toBeNull();
  });

  it('asks before a dirty page is left or closed, naming its draft', () => {
    expect(leaveQuestion(api, { page: 'editor', job: 'worker' }, true)?.title).toBe('Discard unsaved changes to api?');
    expect(leaveQuestion(api, { page: 'runs', job: 'api' }, true)?.title).toBe('Discard unsaved changes to api?');
    expect(leaveQuestion(api, { page: 'new', from: 'api' }, true)).not.toBeNull();
    expect(leaveQuestion(api, 'close', true)?.message).toContain('window closes');
    expect(leaveQuestion({ page: 'new' }, { page: 'app' }, true)?.title).toBe('Discard unsaved changes to the new job?');
    expect(leaveQuestion({ page: 'new', from: 'api' }, { page: 'new' }, true)?.title).toBe('Discard unsaved changes to the copy of api?');
    expect(leaveQuestion({ page: 'app' }, api, true)?.title).toBe('Discard unsaved changes to the app settings?');
  });

  it('does not ask when the page stays', () => {
    expect(leaveQuestion(api, { page: 'editor', job: 'api' }, true)).toBeNull();
    expect(leaveQuestion({ page: 'app' }, { page: 'app' }, true)).toBeNull();
    expect(leaveQuestion({ page: 'new', from: 'x' }, { page: 'new', from: 'x' }, true)).toBeNull();
  });

  it('treats Logs at another time as the same page, other jobs and copies as others', () => {
    expect(samePage({ page: 'logs', job: 'api', at: 'a' }, { page: 'logs', job: 'api' })).toBe(true);
    expect(samePage({ page: 'logs', job: 'api' }, { page: 'logs', job: 'worker' })).toBe(false);
    expect(samePage({ page: 'new' }, { page: 'new', from: 'api' })).toBe(false);
  });
});

describe('draftKey', () => {
  const spec: JobSpec = { ...defaultSpec(), name: 'api', command: 'node server.js', env: { PORT: '8080' } };

  it('is the same for a form and its spec however often it is converted', () => {
    expect(draftKey(formFromSpec(spec, toyDefaults()), spec)).toBe(draftKey(formFromSpec(spec, toyDefaults()), spec));
  });

  it('changes with any edit, and not with an edit undone', () => {
    const saved = draftKey(formFromSpec(spec, toyDefaults()), spec);
    const form = formFromSpec(spec, toyDefaults());
    form.command = 'node server.js --port 9090';
    expect(draftKey(form, spec)).not.toBe(saved);
    form.command = 'node server.js';
    expect(draftKey(form, spec)).toBe(saved);
  });

  it('counts secret markers, but not an empty env row nothing would save', () => {
    const saved = draftKey(formFromSpec(spec, toyDefaults()), spec);
    const form = formFromSpec(spec, toyDefaults());
    form.env.push(envRow());
    expect(draftKey(form, spec)).toBe(saved);
    form.env[0].secret = true;
    expect(draftKey(form, spec)).not.toBe(saved);
    form.env[0].secret = false;
    form.file_secrets.push('FROM_FILE');
    expect(draftKey(form, spec)).not.toBe(saved);
  });

  it('counts edits the spec cannot hold (a key set twice, a bad exit code)', () => {
    const saved = draftKey(formFromSpec(spec, toyDefaults()), spec);
    const twice = formFromSpec(spec, toyDefaults());
    twice.env.push(envRow('PORT', '9090'));
    expect(draftKey(twice, spec)).not.toBe(saved);
    const codes = formFromSpec(spec, toyDefaults());
    codes.restart.success_exit_codes = '0, x';
    expect(draftKey(codes, spec)).not.toBe(saved);
  });

  it('makes a new job dirty once anything is typed', () => {
    const fresh = draftKey(formFromSpec(defaultSpec(), toyDefaults()));
    const form = formFromSpec(defaultSpec(), toyDefaults());
    form.name = 'b';
    expect(draftKey(form)).not.toBe(fresh);
  });
});
