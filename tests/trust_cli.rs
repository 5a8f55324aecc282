//! `talab run … --platform claude --strict` as a user runs it: whatever Claude answers (401, or
//! a 500 echoing the key), OpenAI and Gemini receive nothing, and no part of the key is printed.

use crate::util::{talab_async, text};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-ant-api03-STRICTSTRICT-7c1d";
/// No run of this many leading characters of the key may be printed.
const MIN_PREFIX: usize = 8;

async fn server(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

async fn calls(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_run_never_sends_the_prompt_to_another_platform() {
    let answers = [
        ResponseTemplate::new(401).set_body_string("invalid x-api-key"),
        ResponseTemplate::new(500).set_body_string(format!("upstream failure for key {KEY}")),
    ];
    for claude_answer in answers {
        let home = tempfile::tempdir().unwrap();
        let claude = server(claude_answer).await;
        // They would answer well: only --strict keeps the prompt from them.
        let openai = server(ResponseTemplate::new(200)).await;
        let gemini = server(ResponseTemplate::new(200)).await;
        let env = [
            ("ANTHROPIC_API_KEY", KEY.to_string()),
            ("ANTHROPIC_BASE_URL", claude.uri()),
            ("OPENAI_API_KEY", "sk-proj-other-key-1".to_string()),
            ("OPENAI_BASE_URL", openai.uri()),
            ("GEMINI_API_KEY", "AIza-other-key-2".to_string()),
            ("GEMINI_BASE_URL", gemini.uri()),
        ];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let out = talab_async(
            home.path(),
            &[
                "run",
                "Summarise our private strategy",
                "--type",
                "research",
                "--platform",
                "claude",
                "--strict",
            ],
            &env,
        )
        .await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(calls(&claude).await >= 1, "{stderr}");
        assert_eq!(
            (calls(&openai).await, calls(&gemini).await),
            (0, 0),
            "the prompt went elsewhere: {stderr}"
        );
        for n in MIN_PREFIX..=KEY.len() {
            assert!(!stderr.contains(&KEY[..n]), "part of the key printed: {stderr}");
        }
    }
}
