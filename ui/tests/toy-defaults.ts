// The engine's defaults as the real job_defaults command serves them, for the mock backends and
// the form tests. engine-defaults.json is written by `UPDATE_BINDINGS=1 cargo test -p
// sentinel-app bindings`, and that test fails when it no longer matches the engine.
import { formFromSpec, specFromForm } from '../src/lib/editor';
import type { JobDefaults, JobSpec } from '../src/lib/types';
import engineDefaults from './engine-defaults.json';

export function toyDefaults(): JobDefaults {
  return structuredClone(engineDefaults) as JobDefaults;
}

/** A new job's definition as the editor sends it: the engine's defaults, every field spelled out. */
export function defaultSpec(): JobSpec {
  const defaults = toyDefaults();
  const { spec, errors } = specFromForm(formFromSpec(defaults.spec, defaults));
  if (errors.length > 0) throw new Error(`the engine's defaults do not make a form: ${JSON.stringify(errors)}`);
  return spec;
}
