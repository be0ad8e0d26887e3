//! Tables of cases for the sans-IO registry protocol, with a scripted transport.

use std::collections::VecDeque;

use super::*;

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
    Response {
        status,
        headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        body: body.as_bytes().to_vec(),
    }
}

/// The requests a scripted transport received.
type Log = std::rc::Rc<std::cell::RefCell<Vec<Request>>>;

/// Headers of a canned answer, and the digest or error text it should give.
type ManifestCase<'a> = (Vec<(&'a str, &'a str)>, Result<&'a str, &'a str>);

/// A transport that answers from a script and records what it was asked.
fn scripted(answers: Vec<Response>) -> (impl FnMut(&Request) -> Result<Response, String>, Log) {
    let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let seen = log.clone();
    let mut answers: VecDeque<Response> = answers.into();
    let transport = move |r: &Request| {
        seen.borrow_mut().push(r.clone());
        answers.pop_front().ok_or_else(|| "no more answers".to_owned())
    };
    (transport, log)
}

#[test]
fn image_names_split_like_docker() {
    let cases = [
        ("ghcr.io/acme/user-roles", "ghcr.io", "acme/user-roles", "https://ghcr.io"),
        ("127.0.0.1:5000/app", "127.0.0.1:5000", "app", "http://127.0.0.1:5000"),
        ("localhost/a/b", "localhost", "a/b", "http://localhost"),
        ("nginx", "registry-1.docker.io", "library/nginx", "https://registry-1.docker.io"),
        ("acme/api", "registry-1.docker.io", "acme/api", "https://registry-1.docker.io"),
        (
            "registry.internal:8443/x",
            "registry.internal:8443",
            "x",
            "https://registry.internal:8443",
        ),
    ];
    for (name, registry, repository, base) in cases {
        let parsed = ImageName::parse(name);
        assert_eq!(
            (parsed.registry.as_str(), parsed.repository.as_str()),
            (registry, repository),
            "{name}"
        );
        assert_eq!(parsed.base_url(&[]), base, "{name}");
    }
    let insecure = ImageName::parse("registry.internal:8443/x");
    assert_eq!(
        insecure.base_url(&["registry.internal:8443".into()]),
        "http://registry.internal:8443"
    );
}

#[test]
fn challenges_parse() {
    let bearer = |realm: &str, service: Option<&str>, scope: Option<&str>| Challenge::Bearer {
        realm: realm.into(),
        service: service.map(Into::into),
        scope: scope.map(Into::into),
    };
    let cases = [
        (
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull""#,
            Some(bearer(
                "https://auth.example/token",
                Some("registry.example"),
                Some("repository:a/b:pull"),
            )),
        ),
        (
            r#"bearer realm="https://a/t", scope="repository:x:pull,push""#,
            Some(bearer("https://a/t", None, Some("repository:x:pull,push"))),
        ),
        (r#"Bearer realm=https://a/t,service=s"#, Some(bearer("https://a/t", Some("s"), None))),
        (r#"Bearer realm="a\"b""#, Some(bearer("a\"b", None, None))),
        (r#"Basic realm="basic-realm""#, Some(Challenge::Basic)),
        (r#"Bearer service="s""#, None),
        ("Negotiate", None),
        ("", None),
        ("Bearer realm=\"unterminated", Some(bearer("unterminated", None, None))),
    ];
    for (text, want) in cases {
        assert_eq!(Challenge::parse(text), want, "{text}");
    }
}

#[test]
fn token_urls_and_answers() {
    assert_eq!(
        token_url("https://a/token", Some("reg istry"), "repository:x/y:pull"),
        "https://a/token?service=reg%20istry&scope=repository:x/y:pull"
    );
    assert_eq!(token_url("https://a/t?x=1", None, "s"), "https://a/t?x=1&scope=s");
    let cases: [(&str, Result<&str, ()>); 6] = [
        (r#"{"token":"abc"}"#, Ok("abc")),
        (r#"{"access_token":"xyz","expires_in":60}"#, Ok("xyz")),
        (r#"{"token":"","access_token":"b"}"#, Ok("b")),
        (r#"{"token":5}"#, Err(())),
        ("<html>", Err(())),
        ("", Err(())),
    ];
    for (body, want) in cases {
        assert_eq!(parse_token(body.as_bytes()).map_err(|_| ()), want.map(str::to_owned), "{body}");
    }
}

#[test]
fn docker_config_credentials() {
    // base64("alice:s3cr:et") and base64("bob:pw").
    let config = r#"{"auths": {
        "https://index.docker.io/v1/": {"auth": "Ym9iOnB3"},
        "ghcr.io": {"auth": "YWxpY2U6czNjcjpldA=="},
        "http://127.0.0.1:5000": {"username": "u", "password": "p"},
        "broken.example": {"auth": "!!!"},
        "nocolon.example": {"auth": "bm9jb2xvbg=="},
        "empty.example": {}
    }}"#;
    let creds = |u: &str, p: &str| Some(Credentials { username: u.into(), password: p.into() });
    let cases: [(&str, Result<Option<Credentials>, ()>); 7] = [
        ("ghcr.io", Ok(creds("alice", "s3cr:et"))),
        ("registry-1.docker.io", Ok(creds("bob", "pw"))),
        ("127.0.0.1:5000", Ok(creds("u", "p"))),
        ("quay.io", Ok(None)),
        ("empty.example", Ok(None)),
        ("broken.example", Err(())),
        ("nocolon.example", Err(())),
    ];
    for (registry, want) in cases {
        assert_eq!(config_credentials(config, registry).map_err(|_| ()), want, "{registry}");
    }
    assert!(config_credentials("{}", "ghcr.io").unwrap().is_none());
    assert!(config_credentials("not json", "ghcr.io").is_err());
    assert!(config_credentials(r#"{"auths": []}"#, "ghcr.io").is_err());
    assert!(!format!("{:?}", creds("alice", "hunter2")).contains("hunter2"));
}

#[test]
fn link_headers() {
    let base = "http://127.0.0.1:5000";
    let cases = [
        (
            r#"</v2/a/tags/list?n=2&last=b>; rel="next""#,
            Some("http://127.0.0.1:5000/v2/a/tags/list?n=2&last=b"),
        ),
        (
            r#"<https://other/v2/a/tags/list?last=b>; rel=next"#,
            Some("https://other/v2/a/tags/list?last=b"),
        ),
        (r#"<v2/x>; rel="prev", </v2/y>; rel="next""#, Some("http://127.0.0.1:5000/v2/y")),
        (r#"</v2/y>; rel="prev""#, None),
        ("garbage", None),
        ("", None),
    ];
    for (link, want) in cases {
        assert_eq!(next_link(link, base).as_deref(), want, "{link}");
    }
}

#[test]
fn pagination_follows_links_and_stops_on_repeats() {
    let opts = Options { page_size: 2, ..Options::default() };
    // A registry that pages properly.
    let (transport, log) = scripted(vec![
        response(
            200,
            &[("Link", r#"</v2/app/tags/list?n=2&last=b>; rel="next""#)],
            r#"{"name":"app","tags":["a","b"]}"#,
        ),
        response(
            200,
            &[("Link", r#"</v2/app/tags/list?n=2&last=d>; rel="next""#)],
            r#"{"name":"app","tags":["c","d"]}"#,
        ),
        response(200, &[], r#"{"name":"app","tags":["e"]}"#),
    ]);
    let mut client = Client::new("r", "http://r", None, opts, transport);
    assert_eq!(client.tags("app").unwrap(), ["a", "b", "c", "d", "e"]);
    let urls: Vec<String> = log.borrow().iter().map(|r| r.url.clone()).collect();
    assert_eq!(
        urls,
        [
            "http://r/v2/app/tags/list?n=2",
            "http://r/v2/app/tags/list?n=2&last=b",
            "http://r/v2/app/tags/list?n=2&last=d"
        ]
    );
    // A registry that ignores `last` and always sends the whole list with a Link.
    let whole = || {
        response(
            200,
            &[("Link", r#"</v2/app/tags/list?n=2&last=b>; rel="next""#)],
            r#"{"tags":["b","a","c"]}"#,
        )
    };
    let (transport, log) = scripted(vec![whole(), whole(), whole()]);
    let mut client = Client::new("r", "http://r", None, opts, transport);
    assert_eq!(client.tags("app").unwrap(), ["b", "a", "c"]);
    assert_eq!(log.borrow().len(), 2);
    // `tags: null` is an empty repository.
    let (transport, _) = scripted(vec![response(200, &[], r#"{"name":"app","tags":null}"#)]);
    assert!(Client::new("r", "http://r", None, opts, transport).tags("app").unwrap().is_empty());
}

#[test]
fn failures_are_errors() {
    let opts = Options { page_size: 2, max_pages: 3, max_tags: 5 };
    let link = |n: usize| format!("</v2/app/tags/list?last={n}>; rel=\"next\"");
    let page = |n: usize| response(200, &[("Link", &link(n))], &format!(r#"{{"tags":["t{n}"]}}"#));
    let cases: Vec<(&str, Vec<Response>, &str)> = vec![
        (
            "404",
            vec![response(404, &[], r#"{"errors":[{"code":"NAME_UNKNOWN"}]}"#)],
            "repository app not found at http://r/v2/app/tags/list?n=2",
        ),
        (
            "500",
            vec![response(500, &[], "internal error\nmore")],
            "http://r/v2/app/tags/list?n=2 answered HTTP 500: internal error",
        ),
        (
            "401 without challenge",
            vec![response(401, &[], "")],
            "cannot follow the auth challenge ``",
        ),
        (
            "401 basic without credentials",
            vec![response(401, &[("WWW-Authenticate", "Basic realm=x")], "")],
            "registry r refused access to app (HTTP 401): give credentials",
        ),
        ("garbage", vec![response(200, &[], "<html>hello</html>")], "malformed tag list"),
        ("wrong JSON shape", vec![response(200, &[], r#"{"tags":"a"}"#)], "malformed tag list"),
        (
            "bad link",
            vec![response(200, &[("Link", "nonsense")], r#"{"tags":["a"]}"#)],
            "malformed Link header",
        ),
        ("endless pages", vec![page(1), page(2), page(3), page(4)], "exceeds 3 pages"),
        (
            "too many tags",
            vec![response(200, &[], r#"{"tags":["1","2","3","4","5","6"]}"#)],
            "exceeds 5 tags",
        ),
        ("transport", vec![], "request to http://r/v2/app/tags/list?n=2 failed: no more answers"),
        (
            "bearer realm refuses",
            vec![
                response(401, &[("WWW-Authenticate", r#"Bearer realm="http://auth/token""#)], ""),
                response(401, &[], ""),
            ],
            "refused access",
        ),
        (
            "bearer token garbage",
            vec![
                response(401, &[("WWW-Authenticate", r#"Bearer realm="http://auth/token""#)], ""),
                response(200, &[], "nope"),
            ],
            "malformed token response",
        ),
        (
            "bearer realm not a URL",
            vec![response(
                401,
                &[("WWW-Authenticate", r#"Bearer realm="file:///etc/passwd""#)],
                "",
            )],
            "cannot follow the auth challenge",
        ),
        (
            "token accepted, access denied",
            vec![
                response(401, &[("WWW-Authenticate", r#"Bearer realm="http://auth/token""#)], ""),
                response(200, &[], r#"{"token":"t"}"#),
                response(403, &[], ""),
            ],
            "(HTTP 403)",
        ),
    ];
    for (name, answers, want) in cases {
        let (transport, _) = scripted(answers);
        let err = Client::new("r", "http://r", None, opts, transport)
            .tags("app")
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{name}: {err}");
    }
}

#[test]
fn bearer_flow_sends_credentials_to_the_realm_and_reuses_the_token() {
    let challenge = r#"Bearer realm="http://auth/token",service="reg",scope="repository:app:pull""#;
    let (transport, seen) = scripted(vec![
        response(401, &[("WWW-Authenticate", challenge)], ""),
        response(200, &[], r#"{"token":"T1"}"#),
        response(200, &[], r#"{"tags":["a"]}"#),
        response(
            200,
            &[
                (DIGEST_HEADER, &format!("sha256:{}", "a".repeat(64))),
                ("Content-Type", OCI_MANIFEST),
            ],
            "",
        ),
        // The token expires: a new challenge, a new token, the request again.
        response(401, &[("WWW-Authenticate", challenge)], ""),
        response(200, &[], r#"{"token":"T2"}"#),
        response(200, &[], r#"{"tags":["a","b"]}"#),
    ]);
    let creds = Credentials { username: "u".into(), password: "p".into() };
    let mut client =
        Client::new("r", "http://r", Some(creds.clone()), Options::default(), transport);
    assert_eq!(client.tags("app").unwrap(), ["a"]);
    let manifest = client.manifest("app", "a").unwrap();
    assert_eq!(manifest.digest, format!("sha256:{}", "a".repeat(64)));
    assert_eq!(manifest.media_type.as_deref(), Some(OCI_MANIFEST));
    let log = seen.borrow();
    assert_eq!(log[1].url, "http://auth/token?service=reg&scope=repository:app:pull");
    assert!(log[1].headers.contains(&("Authorization".into(), creds.basic())));
    assert!(log[2].headers.contains(&("Authorization".into(), "Bearer T1".into())));
    assert!(log[3].headers.contains(&("Authorization".into(), "Bearer T1".into())));
    assert_eq!(log[3].method, Method::Head);
    drop(log);
    assert_eq!(client.tags("app").unwrap(), ["a", "b"]);
    let log = seen.borrow();
    assert!(log[6].headers.contains(&("Authorization".into(), "Bearer T2".into())));
    assert_eq!(log[6].headers.iter().filter(|(k, _)| k == "Authorization").count(), 1);
}

#[test]
fn manifest_answers() {
    let digest = format!("sha256:{}", "0123456789abcdef".repeat(4));
    let cases: Vec<ManifestCase> = vec![
        (vec![(DIGEST_HEADER, &digest), ("Content-Type", DOCKER_MANIFEST)], Ok(&digest)),
        (vec![("docker-content-digest", &digest)], Ok(&digest)),
        (
            vec![
                (DIGEST_HEADER, &digest),
                ("Content-Type", "application/vnd.oci.image.index.v1+json; charset=utf-8"),
            ],
            Ok(&digest),
        ),
        (vec![], Err("no Docker-Content-Digest header")),
        (vec![(DIGEST_HEADER, "sha256:xyz")], Err("is not a sha256 or sha512 digest")),
        (
            vec![(DIGEST_HEADER, &digest), ("Content-Type", "text/html")],
            Err("unexpected media type `text/html`"),
        ),
    ];
    for (headers, want) in cases {
        let got = manifest_of("u", &response(200, &headers, ""))
            .map(|m| m.digest)
            .map_err(|e| e.to_string());
        match (got, want) {
            (Ok(d), Ok(w)) => assert_eq!(d, w),
            (Err(e), Err(w)) => assert!(e.contains(w), "{e}"),
            (got, want) => panic!("{headers:?}: got {got:?}, want {want:?}"),
        }
    }
}
