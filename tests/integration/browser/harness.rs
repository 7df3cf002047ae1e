//! One headless Chromium for the whole test run, driven over WebDriver, with the checks every page gets: axe-core, the Nu HTML Checker, no sideways scrolling at 360 px, and screenshots.
//!
//! Chromium starts once (on first use) and journeys take turns with it; each journey starts
//! signed out, with no cookies. Its WebDriver connection lives on a runtime of its own, so every
//! journey (and the test instances it starts) runs on that runtime.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const NODE_MODULES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/browser/node_modules"
);
const PHONE: (u32, u32) = (360, 800);
const DESKTOP: u32 = 1280;

struct Shared {
    runtime: tokio::runtime::Runtime,
    client: Client,
    turn: tokio::sync::Mutex<()>,
    axe: String,
    // Held open for the life of the test process: when it closes, the wrapper kills
    // chromedriver and the Chromium it started.
    _driver: Child,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(launch)
}

fn launch() -> Shared {
    let axe_path = Path::new(NODE_MODULES).join("axe-core/axe.min.js");
    let axe = std::fs::read_to_string(&axe_path).unwrap_or_else(|e| {
        panic!(
            "browser tests need axe-core at {} ({e}): run tests/run.sh, which runs `npm ci --prefix tests/browser`",
            axe_path.display()
        )
    });
    assert!(
        vnu_jar().exists(),
        "browser tests need the Nu HTML Checker at {}: run tests/run.sh",
        vnu_jar().display()
    );
    let chromium = std::env::var("PICKET_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "browser tests need Chromium at {chromium} (set PICKET_CHROMIUM, or run tests/run.sh, which installs Debian's chromium and chromium-driver)"
    );
    let port = crate::support::free_port();
    // `read` returns when this process's end of the pipe closes (at exit, however it exits);
    // then the whole process group, chromedriver and Chromium, goes.
    let driver = {
        use std::os::unix::process::CommandExt as _;
        Command::new("sh")
            .arg("-c")
            .arg("chromedriver --port=\"$0\" --log-level=OFF >/dev/null 2>&1 & read _ ; kill 0")
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("browser tests need chromedriver on PATH: run tests/run.sh")
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("browser runtime");
    let client = runtime.block_on(async {
        let url = format!("http://127.0.0.1:{port}");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--disable-extensions", "--disable-default-apps", "--lang=en-GB",
                    format!("--window-size={},{}", PHONE.0, PHONE.1),
                ]
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut last = None;
        for _ in 0..100 {
            match ClientBuilder::new(connector.clone())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => return client,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("Chromium did not start under chromedriver: {last:?}");
    });
    Shared {
        runtime,
        client,
        turn: tokio::sync::Mutex::new(()),
        axe,
        _driver: driver,
    }
}

fn vnu_jar() -> PathBuf {
    Path::new(NODE_MODULES).join("vnu-jar/build/dist/vnu.jar")
}

/// Runs one journey with the browser to itself; `name` names its screenshots.
pub fn journey<F, Fut>(name: &str, body: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: std::future::Future<Output = Browser>,
{
    let shared = shared();
    shared.runtime.block_on(async {
        let _turn = shared.turn.lock().await;
        let client = shared.client.clone();
        client.goto("about:blank").await.expect("blank page");
        // `target/screenshots/<journey>/`, beside the build (the target folder is the parent of
        // the one Cargo gives tests for scratch files).
        let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("target folder");
        let shots = target.join("screenshots").join(name);
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).expect("screenshot folder");
        let browser = Browser {
            client,
            base: String::new(),
            shots,
            pages: Vec::new(),
            axe: &shared.axe,
            shot_count: 0,
        };
        let browser = body(browser).await;
        browser.validate_markup();
    });
}

/// The browser during one journey, pointed at one instance at a time.
pub struct Browser {
    client: Client,
    base: String,
    shots: PathBuf,
    /// The markup of every page checked so far, for one run of the HTML checker at the end.
    pages: Vec<(String, String)>,
    axe: &'static str,
    shot_count: u32,
}

impl Browser {
    /// Points the browser at another instance, signed out of every instance.
    pub async fn at(&mut self, base: &str) {
        self.base = base.to_owned();
        self.goto("/about").await;
        self.client
            .delete_all_cookies()
            .await
            .expect("clear cookies");
    }

    async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// Opens `path` and checks the page it shows.
    pub async fn open(&mut self, path: &str, shot: &str) {
        self.goto(path).await;
        self.check(shot).await;
    }

    /// The path (and query) the browser shows now.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("url");
        let mut path = url.path().to_owned();
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        path
    }

    /// What a person reads on the page.
    pub async fn text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .expect("body")
            .text()
            .await
            .expect("text")
    }

    /// Types `value` into the field `css` finds (`layout` names fields `#f-<name>`),
    /// replacing what it held.
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.field(css).await;
        field.clear().await.expect("clear field");
        field.send_keys(value).await.expect("type");
    }

    /// Sets a field a person fills with a picker (a date), as the picker would.
    pub async fn set(&self, css: &str, value: &str) {
        self.field(css).await;
        self.client
            .execute(
                "document.querySelector(arguments[0]).value = arguments[1]",
                vec![json!(css), json!(value)],
            )
            .await
            .expect("set field");
    }

    pub async fn choose(&self, css: &str, value: &str) {
        self.field(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choose {value} in {css}: {e}"));
    }

    /// The text of the first element `css` finds.
    pub async fn text_of(&self, css: &str) -> String {
        self.field(css).await.text().await.expect("text")
    }

    /// The `href` of the first link `css` finds, as the page wrote it.
    pub async fn href_of(&self, css: &str) -> String {
        self.field(css)
            .await
            .attr("href")
            .await
            .expect("href")
            .unwrap_or_else(|| panic!("{css} has no href"))
    }

    /// What the page's own origin answers at `path`, fetched by the page (with its cookies),
    /// as a download link would get it.
    pub async fn fetch(&self, path: &str) -> (u16, String) {
        let answer = self
            .client
            .execute_async(
                "fetch(arguments[0]).then(r => r.text().then(t => arguments[1]([r.status, t])))",
                vec![json!(path)],
            )
            .await
            .expect("fetch");
        (
            answer[0]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(0),
            answer[1].as_str().unwrap_or_default().to_owned(),
        )
    }

    /// Clicks the element `css` finds (a radio, a checkbox, a link).
    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks the button whose text is `label`, waits for the page it leads to and checks it.
    pub async fn press(&mut self, label: &str, shot: &str) {
        self.activate("button", label, shot).await;
    }

    /// Follows the link whose text is `label`, waits for the page and checks it.
    pub async fn follow(&mut self, label: &str, shot: &str) {
        self.activate("a", label, shot).await;
    }

    async fn activate(&mut self, tag: &str, label: &str, shot: &str) {
        let before = self.client.find(Locator::Css("html")).await.expect("html");
        let here = self.path().await;
        let target = self
            .client
            .find(Locator::XPath(&format!(
                "//{tag}[normalize-space(.)={}]",
                xpath_literal(label)
            )))
            .await
            .unwrap_or_else(|e| panic!("no {tag} {label:?} on {here}: {e}"));
        let posts_to: Value = self
            .client
            .execute(
                "const f = arguments[0].closest('form'); \
                 return f && f.method === 'post' ? f.action : null",
                vec![serde_json::to_value(&target).expect("element")],
            )
            .await
            .expect("form of the button");
        target.click().await.expect("click");
        // The old document goes stale once the new one has loaded.
        for _ in 0..400 {
            if before.tag_name().await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.client
            .wait()
            .for_element(Locator::Css("body"))
            .await
            .expect("next page");
        let url = self.client.current_url().await.expect("url");
        // A page at the form's own address was rendered for the POST (a form shown again with
        // its errors): fetching its address again would check another page.
        let rendered_for_post = posts_to.as_str() == Some(url.as_str());
        self.check_page(shot, rendered_for_post).await;
    }

    async fn field(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("nothing matches {css}: {e}"))
    }

    async fn check(&mut self, shot: &str) {
        self.check_page(shot, false).await;
    }

    /// Every check a page gets.
    async fn check_page(&mut self, shot: &str, rendered_for_post: bool) {
        let path = self.path().await;
        self.accessible(&path).await;
        self.fits_a_phone(&path).await;
        self.screenshots(shot).await;
        // The markup as the server sent it, not as the browser repaired it, except for a page
        // only a POST shows: that one as the browser holds it.
        let script = if rendered_for_post {
            "arguments[0]('<!DOCTYPE html>\\n' + document.documentElement.outerHTML)"
        } else {
            "fetch(location.href, {headers: {Accept: 'text/html'}})\
               .then(r => r.text()).then(arguments[0])"
        };
        let markup = self
            .client
            .execute_async(script, vec![])
            .await
            .expect("page source");
        self.pages.push((
            format!("{shot} ({path})"),
            markup.as_str().unwrap_or_default().to_owned(),
        ));
    }

    async fn accessible(&self, path: &str) {
        self.client
            .execute(self.axe, vec![])
            .await
            .expect("load axe-core");
        let result = self
            .client
            .execute_async(
                "axe.run(document, {runOnly: {type: 'tag', values: \
                   ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})\
                   .then(r => arguments[0](r.violations.map(v => ({id: v.id, help: v.help, \
                   nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}))))",
                vec![],
            )
            .await
            .expect("run axe-core");
        let violations = result.as_array().cloned().unwrap_or_default();
        assert!(
            violations.is_empty(),
            "accessibility problems on {path}:\n{}",
            serde_json::to_string_pretty(&violations).unwrap_or_default()
        );
    }

    async fn fits_a_phone(&self, path: &str) {
        let overflow: Value = self
            .client
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth]",
                vec![],
            )
            .await
            .expect("measure");
        let (wide, viewport) = (overflow[0].as_u64(), overflow[1].as_u64());
        assert!(
            wide <= viewport,
            "{path} scrolls sideways at {} px: {wide:?} > {viewport:?}",
            PHONE.0
        );
    }

    async fn screenshots(&mut self, shot: &str) {
        self.shot_count += 1;
        let shot = format!("{:02}-{shot}", self.shot_count);
        self.client
            .execute("window.scrollTo(0, 0)", vec![])
            .await
            .expect("scroll to the top");
        let height = |client: Client| async move {
            let h: Value = client
                .execute("return document.documentElement.scrollHeight", vec![])
                .await
                .expect("height");
            u32::try_from(h.as_u64().unwrap_or(800))
                .unwrap_or(800)
                .clamp(600, 5000)
        };
        for width in [PHONE.0, DESKTOP] {
            self.client
                .set_window_size(width, PHONE.1)
                .await
                .expect("resize");
            let tall = height(self.client.clone()).await;
            self.client
                .set_window_size(width, tall)
                .await
                .expect("resize");
            let png = self.client.screenshot().await.expect("screenshot");
            let file = self.shots.join(format!("{shot}-{width}.png"));
            std::fs::write(&file, png).expect("save screenshot");
        }
        self.client
            .set_window_size(PHONE.0, PHONE.1)
            .await
            .expect("resize");
    }

    /// One run of the Nu HTML Checker over every page the journey checked.
    fn validate_markup(&self) {
        let dir = tempfile::tempdir().expect("markup folder");
        let mut names = Vec::new();
        for (index, (_, markup)) in self.pages.iter().enumerate() {
            let file = dir.path().join(format!("{index:03}.html"));
            std::fs::File::create(&file)
                .and_then(|mut f| f.write_all(markup.as_bytes()))
                .expect("write markup");
            names.push(file);
        }
        if names.is_empty() {
            return;
        }
        let output = Command::new("java")
            .arg("-jar")
            .arg(vnu_jar())
            .args(["--format", "json", "--exit-zero-always"])
            .args(&names)
            .output()
            .expect("the HTML checker needs java (Debian: default-jre-headless); run tests/run.sh");
        let report: Value = serde_json::from_slice(&output.stderr).unwrap_or_else(|e| {
            panic!(
                "the HTML checker said something unexpected ({e}): {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        let problems: Vec<String> = report["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["type"] == "error" || m["subType"] == "warning")
            // Advice from before every current browser supported `inputmode`.
            .filter(|m| {
                !m["message"]
                    .as_str()
                    .is_some_and(|t| t.contains("“inputmode” attribute is not supported"))
            })
            .map(|m| {
                let file = m["url"].as_str().unwrap_or_default();
                let index: usize = file
                    .rsplit('/')
                    .next()
                    .and_then(|n| n.trim_end_matches(".html").parse().ok())
                    .unwrap_or(usize::MAX);
                let page = self.pages.get(index).map_or("?", |p| p.0.as_str());
                format!(
                    "{page} line {}: {}",
                    m["lastLine"],
                    m["message"].as_str().unwrap_or_default()
                )
            })
            .collect();
        assert!(
            problems.is_empty(),
            "HTML problems:\n{}",
            problems.join("\n")
        );
    }
}

fn xpath_literal(text: &str) -> String {
    if text.contains('"') {
        format!("'{text}'")
    } else {
        format!("\"{text}\"")
    }
}
