//! A job's container and pod: its command, working directory, ports, environment, memory
//! limit and health check as probes, its stop timeout as the grace period; and the list of
//! what a pod has no field for.

use std::time::Duration;

use sentinel_proto::monitor::{HealthCheck, Probe};
use sentinel_proto::{JobSpec, RestartPolicy};

use super::env::Environment;
use super::yaml::Node;
use crate::error::CliError;

pub fn container(
    spec: &JobSpec,
    name: &str,
    image: &str,
    env: &Environment,
    notes: &mut Vec<String>,
) -> Result<Node, CliError> {
    let argv = spec
        .argv()
        .map_err(|m| CliError::Other(format!("job {:?}: command: {m}", spec.name)))?;
    let mut container = Node::map([("name", Node::str(name)), ("image", Node::str(image))]);
    if let Some((program, args)) = argv.split_first() {
        container.push("command", Node::strs([program.as_str()]));
        if !args.is_empty() {
            container.push("args", Node::strs(args.iter().map(String::as_str)));
        }
    }
    if let Some(cwd) = &spec.cwd {
        container.push("workingDir", Node::str(cwd.display().to_string()));
    }
    if !spec.ports.is_empty() {
        let ports = spec
            .ports
            .iter()
            .map(|port| {
                Node::map([
                    ("containerPort", Node::Int(i64::from(*port))),
                    ("protocol", Node::str("TCP")),
                ])
            })
            .collect();
        container.push("ports", Node::List(ports));
        notes.push("no Service is written: add one to reach the ports from other pods".into());
    }
    if !env.env_from.is_empty() {
        container.push("envFrom", Node::List(env.env_from.clone()));
    }
    if !env.env.is_empty() {
        container.push("env", Node::List(env.env.clone()));
    }
    if let Some(bytes) = spec.max_memory {
        container.push(
            "resources",
            Node::map([(
                "limits",
                Node::map([("memory", Node::str(quantity(bytes)))]),
            )]),
        );
    }
    if let Some(health) = &spec.health {
        for (key, probe) in probes(spec, health, notes)? {
            container.push(key, probe);
        }
    }
    Ok(container)
}

/// The pod template: labels, restart policy, grace period and the one container.
pub fn template(spec: &JobSpec, labels: &Node, restart_policy: &str, container: Node) -> Node {
    Node::map([
        ("metadata", Node::map([("labels", labels.clone())])),
        (
            "spec",
            Node::map([
                ("restartPolicy", Node::str(restart_policy)),
                (
                    "terminationGracePeriodSeconds",
                    Node::uint(whole_seconds(spec.stop_timeout)),
                ),
                ("containers", Node::List(vec![container])),
            ]),
        ),
    ])
}

/// Bytes as a Kubernetes quantity, in the unit that gives the shortest whole number.
pub fn quantity(bytes: u64) -> String {
    const UNITS: [(u64, &str); 8] = [
        (1 << 40, "Ti"),
        (1 << 30, "Gi"),
        (1 << 20, "Mi"),
        (1 << 10, "Ki"),
        (1_000_000_000_000, "T"),
        (1_000_000_000, "G"),
        (1_000_000, "M"),
        (1_000, "k"),
    ];
    UNITS
        .iter()
        .filter(|(unit, _)| bytes > 0 && bytes.is_multiple_of(*unit))
        .min_by_key(|(unit, _)| bytes / unit)
        .map_or_else(
            || bytes.to_string(),
            |(unit, suffix)| format!("{}{suffix}", bytes / unit),
        )
}

/// Whole seconds, rounded up: Kubernetes counts probe and stop times in seconds.
fn whole_seconds(duration: Duration) -> u64 {
    duration
        .as_secs()
        .saturating_add(u64::from(duration.subsec_nanos() > 0))
}

/// Hosts a probe reaches as the pod's own address (Kubernetes probes the pod's IP).
const LOCAL_HOSTS: &[&str] = &["localhost", "127.0.0.1", "::1", "0.0.0.0", "::"];

/// `host` and `port` of `host:port` (an IPv6 host in brackets).
fn host_port(authority: &str, default_port: u16) -> Result<(String, u16), String> {
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (authority, None),
    };
    let port = match port {
        Some(port) => port
            .parse::<u16>()
            .map_err(|_| format!("{port:?} is not a port"))?,
        None => default_port,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((host.to_string(), port))
}

/// The probe's action (`exec`, `httpGet` or `tcpSocket`), or `None` for a `log` check.
fn action(
    spec: &JobSpec,
    health: &HealthCheck,
    notes: &mut Vec<String>,
) -> Result<Option<(&'static str, Node)>, CliError> {
    let bad = |field: &str, message: String| {
        CliError::Other(format!("job {:?}: {field}: {message}", spec.name))
    };
    let probe = health.probe().map_err(|(field, m)| bad(field, m))?;
    let target = |host: String, port: u16, notes: &mut Vec<String>| {
        let mut node = Node::map::<&str>([]);
        if LOCAL_HOSTS.contains(&host.as_str()) {
            notes.push(format!(
                "the health check's {host} is the pod's own address in Kubernetes: the server must listen on all interfaces (0.0.0.0), not only on loopback"
            ));
        } else {
            notes.push(format!(
                "the health check probes {host}, from the node, not the pod"
            ));
            node.push("host", Node::str(host));
        }
        node.push("port", Node::Int(i64::from(port)));
        node
    };
    Ok(Some(match probe {
        Probe::Exec(command) => {
            let argv = sentinel_proto::validate::command_argv(&command, false)
                .map_err(|m| bad("health.exec", m))?;
            ("exec", Node::map([("command", Node::strs(argv))]))
        }
        Probe::Http { url } => {
            let rest = url.strip_prefix("http://").unwrap_or(&url);
            let rest = rest.split('#').next().unwrap_or_default();
            let split = rest.find(['/', '?']).unwrap_or(rest.len());
            let (authority, path) = rest.split_at(split);
            let path = match path {
                "" => "/".to_string(),
                p if p.starts_with('?') => format!("/{p}"),
                p => p.to_string(),
            };
            let (host, port) = host_port(authority, 80).map_err(|m| bad("health.http", m))?;
            let mut get = Node::map([("path", Node::str(path))]);
            if let Node::Map(entries) = target(host, port, notes) {
                entries.into_iter().for_each(|(k, v)| get.push(&k, v));
            }
            ("httpGet", get)
        }
        Probe::Tcp(address) => {
            let (host, port) = host_port(&address, 0).map_err(|m| bad("health.tcp", m))?;
            ("tcpSocket", target(host, port, notes))
        }
        Probe::Log(pattern) => {
            notes.push(format!(
                "the health check waits for a line matching {pattern:?} in the output; Kubernetes has no probe on output, so neither readiness nor liveness is checked"
            ));
            return Ok(None);
        }
    }))
}

/// A health check as a readiness probe, and a liveness probe when it restarts the job.
fn probes(
    spec: &JobSpec,
    health: &HealthCheck,
    notes: &mut Vec<String>,
) -> Result<Vec<(&'static str, Node)>, CliError> {
    let Some((kind, what)) = action(spec, health, notes)? else {
        return Ok(Vec::new());
    };
    for (field, value) in [
        ("interval", health.interval),
        ("timeout", health.timeout),
        ("start_period", health.start_period),
    ] {
        if value.subsec_nanos() > 0 {
            notes.push(format!(
                "health.{field} {} is rounded up to whole seconds",
                sentinel_proto::duration::format(value)
            ));
        }
    }
    let mut probe = Node::map([(kind, what)]);
    let start = whole_seconds(health.start_period);
    if start > 0 {
        probe.push("initialDelaySeconds", Node::uint(start));
    }
    probe.push(
        "periodSeconds",
        Node::uint(whole_seconds(health.interval).max(1)),
    );
    probe.push(
        "timeoutSeconds",
        Node::uint(whole_seconds(health.timeout).max(1)),
    );
    probe.push(
        "failureThreshold",
        Node::uint(u64::from(health.retries.max(1))),
    );
    let mut out = Vec::new();
    if health.restart {
        out.push(("livenessProbe", probe.clone()));
    } else {
        notes.push(
            "health.restart = false: only a readiness probe (no restart when unhealthy)".into(),
        );
    }
    out.push(("readinessProbe", probe));
    Ok(out)
}

/// What a job does that its pod has no field for.
pub fn left_behind(spec: &JobSpec) -> Vec<String> {
    let mut notes = Vec::new();
    if !spec.depends_on.is_empty() {
        let deps: Vec<String> = spec
            .depends_on
            .iter()
            .map(|d| format!("{} ({})", d.job, d.condition.describe()))
            .collect();
        notes.push(format!(
            "depends_on {}: Kubernetes starts pods in any order; the container must wait for or retry what it needs (an init container can wait for a Service)",
            deps.join(", ")
        ));
    }
    if spec.stop_signal.as_str() != "TERM" {
        notes.push(format!(
            "stop_signal = {0}: Kubernetes stops a container with the image's STOPSIGNAL (SIGTERM unless set): add STOPSIGNAL SIG{0} to the image",
            spec.stop_signal.as_str()
        ));
    }
    if spec.stop_timeout.subsec_nanos() > 0 {
        notes.push(
            "stop_timeout is rounded up to whole seconds (terminationGracePeriodSeconds)".into(),
        );
    }
    let restart = &spec.restart;
    let default = RestartPolicy::default();
    if restart.mode != sentinel_proto::RestartMode::Never
        && (restart.delay != default.delay
            || restart.backoff != default.backoff
            || restart.max_delay != default.max_delay)
    {
        notes.push(format!(
            "restart delay {} (x{} up to {}): Kubernetes uses its own back-off (10 s, doubling, up to 5 min)",
            sentinel_proto::duration::format(restart.delay),
            restart.backoff,
            sentinel_proto::duration::format(restart.max_delay)
        ));
    }
    if restart.success_exit_codes.iter().any(|code| *code != 0) {
        notes.push("success_exit_codes: Kubernetes counts only exit code 0 as success".into());
    }
    if let Some(expr) = &spec.restart_schedule {
        notes.push(format!(
            "restart_schedule {expr:?}: Kubernetes has no timed restart; a CronJob that runs `kubectl rollout restart` does it"
        ));
    }
    if spec.watch.is_some() {
        notes.push(
            "watch (restart on file changes) has no equivalent: roll out a new image instead"
                .into(),
        );
    }
    if let Some(nice) = spec.nice {
        notes.push(format!(
            "nice = {nice} has no container equivalent: not carried over"
        ));
    }
    if !spec.rlimits.is_empty() {
        notes.push("rlimits are the container runtime's to set: not carried over".into());
    }
    if spec.webhook.is_some() {
        notes.push("the failure webhook stays with SentinelZero: not carried over".into());
    }
    if spec.logs != sentinel_proto::LogSettings::default() {
        notes.push("logs (max_size, max_files): the container runtime keeps and rotates the logs (kubectl logs)".into());
    }
    notes
}
