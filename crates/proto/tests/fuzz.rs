//! Property tests as a fuzzer: whatever text arrives — from a file, a flag or the API — every
//! parser answers with a value or an error, and never panics. `PROPTEST_CASES=100000 cargo
//! test -p sentinel-proto --test fuzz` runs a long session; the test command runs the default.

use proptest::prelude::*;
use sentinel_proto::config::{ConfigFile, ConfigFormat};
use sentinel_proto::settings::Settings;
use sentinel_proto::{duration, schedule, validate, JobSpec};

/// Text that looks like what the parsers expect often enough to get past their first check.
fn near_miss() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9 */,@a-zA-Z-]{0,40}",
        "[0-9]{1,20}(ns|us|ms|s|m|h|d|w|y|weeks|days| )*",
        "[ a-z'\"\\\\;|&$(){}]{0,60}",
    ]
}

/// A job as JSON, built from the real field names with values of any JSON type.
fn job_json() -> impl Strategy<Value = String> {
    let fields = JobSpec::field_names();
    let value = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        near_miss().prop_map(serde_json::Value::from),
        prop::collection::vec(near_miss(), 0..3).prop_map(serde_json::Value::from),
        prop::collection::btree_map("[a-z_]{1,10}", near_miss(), 0..3)
            .prop_map(|m| serde_json::json!(m)),
    ];
    prop::collection::vec((prop::sample::select(fields), value), 0..8).prop_map(|pairs| {
        let mut object = serde_json::Map::new();
        object.insert("name".into(), "fuzz".into());
        object.insert("command".into(), "true".into());
        for (key, value) in pairs {
            object.insert(key.to_string(), value);
        }
        serde_json::Value::Object(object).to_string()
    })
}

proptest! {
    #[test]
    fn durations_crons_and_commands_never_panic(text in near_miss()) {
        let _ = duration::parse(&text);
        let _ = schedule::parse_cron(&text);
        let _ = validate::command_argv(&text, false);
        let _ = validate::validate_name(&text);
        let _ = sentinel_proto::job::byte_size::parse(&text);
    }

    #[test]
    fn any_text_as_a_job_file_or_settings_never_panics(text in any::<String>()) {
        let _ = JobSpec::from_toml(&text);
        let _ = JobSpec::from_json(&text);
        let _ = Settings::from_toml(&text);
        let _ = ConfigFile::parse(&text, ConfigFormat::Toml);
        let _ = ConfigFile::parse(&text, ConfigFormat::Json);
    }

    #[test]
    fn jobs_with_any_field_values_parse_or_say_why(json in job_json()) {
        match JobSpec::from_json(&json) {
            // Whatever is accepted is valid, and reads back the same.
            Ok(spec) => {
                prop_assert!(spec.validate().is_ok());
                let again = JobSpec::from_json(&serde_json::to_string(&spec).unwrap()).unwrap();
                prop_assert_eq!(again, spec);
            }
            Err(err) => prop_assert!(!err.to_string().is_empty()),
        }
    }
}

/// Found by the fuzzer: a TOML error inside a multi-byte character made the line count slice
/// the text in the middle of a character.
#[test]
fn a_toml_error_inside_a_multibyte_character_is_an_error() {
    let errors = ConfigFile::parse("\"𑯁\\࿕¥4", ConfigFormat::Toml).unwrap_err();
    assert_eq!(errors[0].field, "line 1");
}
