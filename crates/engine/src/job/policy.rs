//! Restart decisions as pure functions: policy + what happened -> what to do next. The waits
//! themselves are `RestartPolicy::retry_delay` in proto, beside the preview people see.

use std::time::Duration;

use sentinel_proto::{JobKind, RestartMode, RestartPolicy};

/// How a run ended, as far as the policy cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunResult {
    Success,
    Failure,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    Restart {
        delay: Duration,
    },
    /// Done for good: a clean exit that is not restarted.
    Exit,
    /// A failure that is not retried any more.
    GiveUp,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub next: Next,
    /// Consecutive failures after this run, counted towards `max_retries`.
    pub failures: u32,
}

/// What to do after a run ended. `uptime` is how long it ran (zero when it never started);
/// `failures` is the count before this run.
pub fn after_exit(
    policy: &RestartPolicy,
    kind: JobKind,
    result: RunResult,
    uptime: Duration,
    failures: u32,
) -> Decision {
    // A run that stayed up long enough proves the job healthy again.
    let failures = if uptime >= policy.min_uptime {
        0
    } else {
        failures
    };
    match result {
        RunResult::Success => Decision {
            next: match (kind, policy.mode) {
                (JobKind::Service, RestartMode::Always) => Next::Restart {
                    delay: policy.delay,
                },
                _ => Next::Exit,
            },
            failures: 0,
        },
        RunResult::Failure => {
            let failures = failures.saturating_add(1);
            let next = if policy.mode == RestartMode::Never
                || (policy.max_retries != 0 && failures > policy.max_retries)
            {
                Next::GiveUp
            } else {
                Next::Restart {
                    delay: policy.retry_delay(failures),
                }
            };
            Decision { next, failures }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn policy(mode: RestartMode) -> RestartPolicy {
        RestartPolicy {
            mode,
            max_retries: 3,
            delay: Duration::from_millis(100),
            backoff: 2.0,
            max_delay: Duration::from_secs(1),
            success_exit_codes: vec![0],
            min_uptime: Duration::from_secs(10),
        }
    }

    const QUICK: Duration = Duration::from_millis(5);

    #[test]
    fn delays_grow_by_the_backoff_and_stop_at_the_cap() {
        let p = policy(RestartMode::Always);
        let ms: Vec<u128> = (1..=6).map(|n| p.retry_delay(n).as_millis()).collect();
        assert_eq!(ms, vec![100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn the_default_sequence_reads_as_documented() {
        let p = RestartPolicy::default();
        let ms: Vec<u128> = (1..=p.max_retries)
            .map(|n| p.retry_delay(n).as_millis())
            .collect();
        assert_eq!(ms, vec![1000, 1500, 2250, 3375, 5062]);
    }

    #[test]
    fn max_retries_counts_retries_not_starts() {
        let p = policy(RestartMode::OnFailure);
        let mut failures = 0;
        let mut retries = 0;
        loop {
            let d = after_exit(&p, JobKind::Service, RunResult::Failure, QUICK, failures);
            failures = d.failures;
            match d.next {
                Next::Restart { .. } => retries += 1,
                Next::GiveUp => break,
                Next::Exit => panic!("a failure never exits cleanly"),
            }
        }
        assert_eq!(retries, 3, "3 means one start and three retries");
        assert_eq!(failures, 4);
    }

    #[test]
    fn zero_max_retries_never_gives_up() {
        let mut p = policy(RestartMode::OnFailure);
        p.max_retries = 0;
        let d = after_exit(&p, JobKind::Service, RunResult::Failure, QUICK, 10_000);
        assert_eq!(d.next, Next::Restart { delay: p.max_delay });
    }

    #[test]
    fn each_mode_treats_success_and_failure_as_documented() {
        let cases = [
            (RestartMode::Always, RunResult::Success, "restart"),
            (RestartMode::Always, RunResult::Failure, "restart"),
            (RestartMode::OnFailure, RunResult::Success, "exit"),
            (RestartMode::OnFailure, RunResult::Failure, "restart"),
            (RestartMode::Never, RunResult::Success, "exit"),
            (RestartMode::Never, RunResult::Failure, "give up"),
        ];
        for (mode, result, expected) in cases {
            let d = after_exit(&policy(mode), JobKind::Service, result, QUICK, 0);
            let got = match d.next {
                Next::Restart { .. } => "restart",
                Next::Exit => "exit",
                Next::GiveUp => "give up",
            };
            assert_eq!(got, expected, "{mode:?} after {result:?}");
        }
    }

    #[test]
    fn a_task_that_succeeds_is_done_even_with_always() {
        let d = after_exit(
            &policy(RestartMode::Always),
            JobKind::Task,
            RunResult::Success,
            QUICK,
            0,
        );
        assert_eq!(d.next, Next::Exit);
    }

    #[test]
    fn a_long_enough_run_resets_the_failure_count() {
        let p = policy(RestartMode::OnFailure);
        let d = after_exit(&p, JobKind::Service, RunResult::Failure, p.min_uptime, 3);
        assert_eq!(d.failures, 1);
        assert_eq!(d.next, Next::Restart { delay: p.delay });
        let d = after_exit(
            &p,
            JobKind::Service,
            RunResult::Failure,
            p.min_uptime - QUICK,
            3,
        );
        assert_eq!(d.next, Next::GiveUp);
    }

    fn any_policy() -> impl Strategy<Value = RestartPolicy> {
        (0u64..10_000, 1.0f64..10.0, 0u64..100_000, 0u32..20).prop_map(
            |(delay, backoff, extra, retries)| RestartPolicy {
                delay: Duration::from_millis(delay),
                backoff,
                max_delay: Duration::from_millis(delay + extra),
                max_retries: retries,
                ..RestartPolicy::default()
            },
        )
    }

    proptest! {
        #[test]
        fn delays_never_shrink_and_never_pass_the_cap(p in any_policy(), attempt in 1u32..5000) {
            let here = p.retry_delay(attempt);
            let next = p.retry_delay(attempt + 1);
            prop_assert!(here <= next);
            prop_assert!(next <= p.max_delay);
            prop_assert!(p.retry_delay(1) == p.delay.min(p.max_delay));
        }

        #[test]
        fn constant_backoff_means_constant_delay(delay in 0u64..100_000, attempt in 1u32..100) {
            let p = RestartPolicy { delay: Duration::from_millis(delay), backoff: 1.0,
                max_delay: Duration::from_secs(1000), ..RestartPolicy::default() };
            prop_assert_eq!(p.retry_delay(attempt), p.delay);
        }

        #[test]
        fn a_failing_job_gives_up_after_exactly_max_retries(p in any_policy()) {
            prop_assume!(p.max_retries > 0);
            let mut failures = 0;
            let mut restarts = 0;
            while let Decision { next: Next::Restart { .. }, failures: f } =
                after_exit(&p, JobKind::Service, RunResult::Failure, Duration::ZERO, failures)
            {
                failures = f;
                restarts += 1;
                prop_assert!(restarts <= p.max_retries);
            }
            prop_assert_eq!(restarts, p.max_retries);
            prop_assert_eq!(p.preview().gives_up_after, Some(p.max_retries));
        }
    }
}
