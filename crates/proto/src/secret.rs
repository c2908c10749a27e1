//! Secret environment values: which variables are secret, what shows in their place, and how
//! an edit that sends the placeholder back keeps the value it stands for.

use serde::Deserialize;

use crate::stack::EnvVar;
use crate::validate::{FieldError, ValidationErrors};
use crate::JobSpec;

/// What a secret value is shown as; its length is not given away.
pub const MASK: &str = "••••••••";

/// Secret values shorter than this are not searched for in log output: masking every "1" or
/// "on" a job prints would hide more than it protects.
pub const MIN_MASKED_IN_OUTPUT: usize = 4;

/// Whether secret values are shown or masked in what goes out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Secrets {
    #[default]
    Masked,
    Shown,
}

impl Secrets {
    pub fn shown(show: bool) -> Secrets {
        if show {
            Secrets::Shown
        } else {
            Secrets::Masked
        }
    }
}

impl JobSpec {
    pub fn is_secret(&self, key: &str) -> bool {
        self.secrets.iter().any(|secret| secret == key)
    }

    /// The spec as it may be shown: with `Secrets::Masked`, every secret value in `env` is
    /// replaced by [`MASK`].
    pub fn with_secrets(mut self, secrets: Secrets) -> JobSpec {
        if secrets == Secrets::Masked {
            let names = std::mem::take(&mut self.secrets);
            for (key, value) in self.env.iter_mut() {
                if names.contains(key) {
                    *value = MASK.to_string();
                }
            }
            self.secrets = names;
        }
        self
    }

    /// An edit sends back what it was shown: a value that is still [`MASK`] means "keep the
    /// stored one". With nothing stored (a new job, or a variable that is new) it is refused,
    /// so the placeholder never becomes a job's real value. `field` prefixes field names
    /// (`api.` in an import).
    pub fn restore_secrets(
        &mut self,
        stored: Option<&JobSpec>,
        field: &str,
    ) -> Result<(), ValidationErrors> {
        let mut problems = Vec::new();
        for (key, value) in self.env.iter_mut() {
            if value != MASK {
                continue;
            }
            match stored.and_then(|stored| stored.env.get(key)) {
                Some(real) => value.clone_from(real),
                None => problems.push(FieldError {
                    field: format!("{field}env.{key}"),
                    message: format!(
                        "the value is the placeholder of a hidden secret ({MASK}), not a value; give the real one (exports hide secrets unless asked to show them)"
                    ),
                }),
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(problems))
        }
    }

    /// The values a run's output must not show: secret variables as resolved for the run.
    pub fn secret_values<'a>(&self, vars: &'a [EnvVar]) -> Vec<&'a str> {
        let mut values: Vec<&str> = vars
            .iter()
            .filter(|var| self.is_secret(&var.key) && var.value.len() >= MIN_MASKED_IN_OUTPUT)
            .map(|var| var.value.as_str())
            .collect();
        // Longest first, so a secret that contains another is masked whole.
        values.sort_by_key(|value| std::cmp::Reverse(value.len()));
        values.dedup();
        values
    }
}

/// Resolved variables as they may be shown: secret ones masked and marked.
pub fn mask_env(spec: &JobSpec, vars: Vec<EnvVar>, secrets: Secrets) -> Vec<EnvVar> {
    vars.into_iter()
        .map(|mut var| {
            var.secret = spec.is_secret(&var.key);
            if var.secret && secrets == Secrets::Masked {
                var.value = MASK.to_string();
            }
            var
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::EnvSource;

    fn spec() -> JobSpec {
        let mut spec = JobSpec::new("api", "server");
        spec.env.insert("TOKEN".into(), "s3cr3t-token".into());
        spec.env.insert("PORT".into(), "8080".into());
        spec.secrets = vec!["TOKEN".into(), "FROM_FILE".into()];
        spec
    }

    #[test]
    fn masking_hides_only_secret_values() {
        let masked = spec().with_secrets(Secrets::Masked);
        assert_eq!(masked.env["TOKEN"], MASK);
        assert_eq!(masked.env["PORT"], "8080");
        assert_eq!(masked.secrets, spec().secrets);
        assert_eq!(spec().with_secrets(Secrets::Shown), spec());
    }

    #[test]
    fn an_edit_that_sends_the_mask_back_keeps_the_stored_value() {
        let stored = spec();
        let mut edited = stored.clone().with_secrets(Secrets::Masked);
        edited.env.insert("PORT".into(), "9090".into());
        edited.restore_secrets(Some(&stored), "").unwrap();
        assert_eq!(edited.env["TOKEN"], "s3cr3t-token");
        assert_eq!(edited.env["PORT"], "9090");
    }

    #[test]
    fn the_mask_is_never_taken_as_a_value() {
        let mut new = spec().with_secrets(Secrets::Masked);
        let errors = new.restore_secrets(None, "api.").unwrap_err();
        assert_eq!(errors.0.len(), 1);
        assert_eq!(errors.0[0].field, "api.env.TOKEN");
        assert!(errors.0[0].message.contains("placeholder"), "{errors}");
        // Nor for a variable the stored definition does not have.
        let mut other = JobSpec::new("api", "server");
        other.env.insert("NEW".into(), MASK.into());
        assert!(other.restore_secrets(Some(&spec()), "").is_err());
    }

    #[test]
    fn secret_values_cover_env_files_and_skip_short_ones() {
        let var = |key: &str, value: &str| EnvVar {
            key: key.into(),
            value: value.into(),
            source: EnvSource::Spec,
            overrides: Vec::new(),
            secret: false,
        };
        let mut spec = spec();
        spec.secrets.push("SHORT".into());
        let vars = vec![
            var("TOKEN", "s3cr3t-token"),
            var("FROM_FILE", "file-secret-longer"),
            var("SHORT", "on"),
            var("PORT", "8080"),
        ];
        assert_eq!(
            spec.secret_values(&vars),
            vec!["file-secret-longer", "s3cr3t-token"]
        );
        let shown = mask_env(&spec, vars, Secrets::Masked);
        assert_eq!(shown[0].value, MASK);
        assert!(shown[0].secret);
        assert_eq!(shown[3].value, "8080");
        assert!(!shown[3].secret);
    }
}
