use super::*;

fn ssh(user: Option<&str>, host: &str, port: Option<u16>) -> EngineAddress {
    EngineAddress::Ssh(SshHost {
        user: user.map(str::to_string),
        host: host.into(),
        port,
    })
}

#[test]
fn ssh_addresses_read_and_print_back() {
    for (text, address) in [
        ("ssh://build-box", ssh(None, "build-box", None)),
        (
            "ssh://deploy@10.0.0.5:2222",
            ssh(Some("deploy"), "10.0.0.5", Some(2222)),
        ),
        ("ssh://me@[::1]:22", ssh(Some("me"), "::1", Some(22))),
        (
            "ssh://host.example.com/",
            ssh(None, "host.example.com", None),
        ),
    ] {
        let parsed = EngineAddress::parse(text).unwrap();
        assert_eq!(parsed, address, "{text}");
        assert_eq!(
            EngineAddress::parse(&parsed.to_string()).unwrap(),
            address,
            "{text} round trip"
        );
    }
    assert_eq!(
        EngineAddress::parse("unix:///tmp/sz/sentinel.sock").unwrap(),
        EngineAddress::Socket("/tmp/sz/sentinel.sock".into())
    );
    assert_eq!(
        ssh(Some("deploy"), "box", None)
            .ssh()
            .unwrap()
            .destination(),
        "deploy@box"
    );
}

#[test]
fn addresses_that_could_become_ssh_options_or_shell_words_are_refused() {
    for (text, says) in [
        ("build-box", "use ssh://"),
        ("http://box", "use ssh://"),
        ("ssh://-oProxyCommand=touch%20x", "starts with '-'"),
        ("ssh://-p22@box", "starts with '-'"),
        ("ssh://me@box;rm", "has ';'"),
        ("ssh://me@", "host is empty"),
        ("ssh://@box", "user is empty"),
        ("ssh://box:0", "port \"0\""),
        ("ssh://box:99999", "1 to 65535"),
        ("ssh://box:22/path", "after the host"),
        ("ssh://box?x=1", "after the host"),
        ("ssh://[::1", "not closed"),
        ("ssh://[::1]x", "[address]:port"),
        ("ssh://[zz]", "not an IPv6"),
        ("unix://relative.sock", "absolute"),
        ("ssh://me@b o x", "has ' '"),
    ] {
        let err = EngineAddress::parse(text).unwrap_err();
        assert!(err.contains(says), "{text}: {err}");
    }
    let long = format!("ssh://{}", "a".repeat(MAX_ADDRESS));
    assert!(EngineAddress::parse(&long).unwrap_err().contains("at most"));
}

fn context(name: &str, host: &str) -> EngineContext {
    EngineContext {
        name: name.into(),
        host: host.into(),
        description: String::new(),
        sentinel: None,
    }
}

#[test]
fn a_context_file_is_checked_whole_and_names_each_field() {
    let text = r#"
current = "nowhere"
[[contexts]]
name = "default"
host = "ssh://box"
[[contexts]]
name = "build"
host = "tcp://box"
sentinel = "sentinel; rm -rf ~"
[[contexts]]
name = "build"
host = "ssh://box"
description = "bell\u0007"
"#;
    let problems = ContextFile::parse(text).unwrap_err();
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "contexts[0].name",
            "contexts[1].host",
            "contexts[1].sentinel",
            "contexts[2].description",
            "contexts[2].name",
            "current"
        ],
        "{problems:?}"
    );
    let unknown =
        ContextFile::parse("[[contexts]]\nname = \"a\"\nhost = \"ssh://a\"\npassword = \"x\"\n")
            .unwrap_err();
    assert!(unknown[0].message.contains("password"), "{unknown:?}");
}

#[test]
fn contexts_are_added_once_removed_and_written_back() {
    let mut file = ContextFile::default();
    file.add(context("build-box", "ssh://deploy@build:2222"))
        .unwrap();
    let taken = file.add(context("build-box", "ssh://other")).unwrap_err();
    assert!(taken[0].message.contains("already"), "{taken:?}");
    let bad = file.add(context("x y", "ssh://")).unwrap_err();
    assert_eq!(bad.len(), 2, "{bad:?}");
    file.current = Some("build-box".into());
    let text = file.to_toml().unwrap();
    assert_eq!(ContextFile::parse(&text).unwrap(), file);
    assert_eq!(file.current().unwrap().remote_sentinel(), "sentinel");
    assert!(file.remove("build-box"));
    assert_eq!(
        file.current, None,
        "removing the current context goes back to local"
    );
    assert!(!file.remove("build-box"));
}

#[test]
fn a_file_of_too_many_contexts_is_refused() {
    let file = ContextFile {
        current: None,
        contexts: (0..=MAX_CONTEXTS)
            .map(|i| context(&format!("c{i}"), "ssh://box"))
            .collect(),
    };
    assert!(file.problems().iter().any(|p| p.field == "contexts"));
    let mut full = ContextFile {
        contexts: file.contexts[..MAX_CONTEXTS].to_vec(),
        ..ContextFile::default()
    };
    assert!(full.add(context("one-more", "ssh://box")).is_err());
}
