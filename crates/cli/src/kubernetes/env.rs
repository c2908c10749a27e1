//! A job's environment in Kubernetes: `env` as the container's `env`, what its env files hold
//! as a ConfigMap it takes whole (`envFrom`), and its secret variables as a Secret each one
//! refers to (`secretKeyRef`). A container's `env` wins over its `envFrom`, as a job's `env`
//! wins over its env files.

use std::collections::BTreeMap;

use sentinel_proto::limits::MAX_ENV_VARS;
use sentinel_proto::secret::Secrets;
use sentinel_proto::stack::EnvSource;

use super::yaml::Node;
use super::{metadata, Job, Manifest};

/// The most a ConfigMap may hold (Kubernetes refuses larger objects).
const MAX_CONFIG_MAP_BYTES: usize = 1 << 20;

/// What the container gets, and the objects it refers to.
pub struct Environment {
    /// The ConfigMap and the Secret, when the job has them.
    pub manifests: Vec<Manifest>,
    pub env_from: Vec<Node>,
    pub env: Vec<Node>,
}

/// Keys a ConfigMap or Secret may have.
fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
}

pub fn environment(
    job: &Job,
    name: &str,
    labels: &Node,
    secrets: Secrets,
    notes: &mut Vec<String>,
) -> Environment {
    let spec = &job.spec;
    let config_name = format!("{name}-env");
    let secret_name = format!("{name}-secrets");
    let mut out = Environment {
        manifests: Vec::new(),
        env_from: Vec::new(),
        env: Vec::new(),
    };
    // Secret variables the env files set, with their values (masked unless shown).
    let mut file_secrets: BTreeMap<&str, &str> = BTreeMap::new();
    if !spec.env_files.is_empty() {
        let files: Vec<String> = spec
            .env_files
            .iter()
            .map(|file| match &spec.cwd {
                Some(cwd) => cwd.join(file).display().to_string(),
                None => file.display().to_string(),
            })
            .collect();
        let create = format!(
            "kubectl create configmap {config_name} {}",
            files
                .iter()
                .map(|f| format!("--from-env-file={f}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let config_ref = Node::map([(
            "configMapRef",
            Node::map([("name", Node::str(config_name.as_str()))]),
        )]);
        match &job.file_env {
            Ok(vars) => {
                let mut data = Vec::new();
                let mut bytes = 0usize;
                for var in vars {
                    if !matches!(var.source, EnvSource::File(_)) {
                        continue;
                    }
                    if spec.is_secret(&var.key) {
                        file_secrets.insert(&var.key, &var.value);
                    } else if valid_key(&var.key) {
                        bytes = bytes.saturating_add(var.key.len() + var.value.len());
                        data.push((var.key.clone(), Node::str(var.value.as_str())));
                    } else {
                        notes.push(format!(
                            "the env files set {:?}, which a ConfigMap cannot hold (keys are letters, digits, -, . and _): not carried over",
                            var.key
                        ));
                    }
                }
                if data.len() > MAX_ENV_VARS || bytes > MAX_CONFIG_MAP_BYTES {
                    notes.push(format!(
                        "the env files hold {} variables, {bytes} bytes: more than this export writes into a ConfigMap ({MAX_ENV_VARS} variables, 1 MiB); create it from the files: {create}",
                        data.len()
                    ));
                    out.env_from.push(config_ref);
                } else if !data.is_empty() {
                    let node = Node::map([
                        ("apiVersion", Node::str("v1")),
                        ("kind", Node::str("ConfigMap")),
                        ("metadata", metadata(&config_name, labels)),
                        ("data", Node::Map(data)),
                    ]);
                    out.manifests.push(Manifest {
                        comments: vec![format!(
                            "the variables of {}, as the engine read them at export",
                            files.join(", ")
                        )],
                        node,
                    });
                    out.env_from.push(config_ref);
                }
            }
            Err(reason) => {
                notes.push(format!(
                    "the env files could not be read ({reason}); the container refers to ConfigMap {config_name}: create it where the files are: {create}"
                ));
                out.env_from.push(config_ref);
            }
        }
    }
    let mut secret_data: Vec<(String, Node)> = Vec::new();
    let mut secret_ref = |key: &str,
                          value: Option<&str>,
                          notes: &mut Vec<String>|
     -> Option<Node> {
        if !valid_key(key) {
            notes.push(format!(
                "secret {key:?} cannot be a key of a Secret (keys are letters, digits, -, . and _): not carried over"
            ));
            return None;
        }
        // Values only when asked for; never the mask that stands for them.
        let value = match secrets {
            Secrets::Shown => value.unwrap_or_default(),
            Secrets::Masked => "",
        };
        secret_data.push((key.to_string(), Node::str(value)));
        Some(Node::map([
            ("name", Node::str(key)),
            (
                "valueFrom",
                Node::map([(
                    "secretKeyRef",
                    Node::map([
                        ("name", Node::str(secret_name.as_str())),
                        ("key", Node::str(key)),
                    ]),
                )]),
            ),
        ]))
    };
    for (key, value) in &spec.env {
        if spec.is_secret(key) {
            out.env.extend(secret_ref(key, Some(value.as_str()), notes));
        } else {
            out.env.push(Node::map([
                ("name", Node::str(key.as_str())),
                ("value", Node::str(value.as_str())),
            ]));
        }
    }
    let files_unread = !spec.env_files.is_empty() && job.file_env.is_err();
    for key in spec.secrets.iter().filter(|k| !spec.env.contains_key(*k)) {
        match file_secrets.get(key.as_str()) {
            Some(value) => out.env.extend(secret_ref(key, Some(*value), notes)),
            // Probably in the files that could not be read: its value is for the user to give.
            None if files_unread => out.env.extend(secret_ref(key, None, notes)),
            None => notes.push(format!(
                "secrets names {key:?}, which neither env nor the env files set: not carried over"
            )),
        }
    }
    if !secret_data.is_empty() {
        let comment = match secrets {
            Secrets::Masked => format!(
                "the values are left empty (the export hides secrets; --show-secrets writes them): fill them in before applying, or create the Secret yourself (kubectl create secret generic {secret_name} --from-literal=KEY=VALUE ...)"
            ),
            Secrets::Shown => {
                "secret values in plain text (--show-secrets): keep this file out of version control"
                    .to_string()
            }
        };
        out.manifests.push(Manifest {
            comments: vec![comment],
            node: Node::map([
                ("apiVersion", Node::str("v1")),
                ("kind", Node::str("Secret")),
                ("metadata", metadata(&secret_name, labels)),
                ("type", Node::str("Opaque")),
                ("stringData", Node::Map(secret_data)),
            ]),
        });
    }
    out
}
