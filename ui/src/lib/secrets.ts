// Secret env values are the engine's: a job's `secrets` names them, and get_job / job_env
// answer with this in their place unless asked to show them. A value sent back unchanged as
// this keeps the stored one.

/** What a masked value looks like: its length is not given away (the engine's `MASK`). */
export const MASK = '••••••••';
