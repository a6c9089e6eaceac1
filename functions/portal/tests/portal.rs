//! The portal's HTTP behaviour against the embedded backend: signing in, sessions, CSRF, the
//! throttle, what a team member and another practice may see.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use http::{Request, StatusCode, header};
use praxis_portal::{PortalConfig, router};
use praxis_shared::domain::AccountId;
use praxis_shared::domain::account::{Account, Role};
use praxis_shared::domain::message::Transition;
use praxis_shared::domain::org::{EmailAddress, Org};
use praxis_shared::domain::{Region, Status};
use praxis_shared::ports::Clock;
use praxis_shared::services::Services;
use praxis_shared::testing::{TestBackend, call, pending_message, practice};

const PASSWORD: &str = "ein gutes Passwort";

/// A clock the test moves.
struct TestClock(Mutex<DateTime<Utc>>);

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl TestClock {
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }
}

struct Stack {
    _backend: TestBackend,
    svc: Services,
    clock: Arc<TestClock>,
}

impl Stack {
    fn new() -> Stack {
        let backend = TestBackend::new("http://127.0.0.1:9");
        let clock = Arc::new(TestClock(Mutex::new(Utc::now())));
        let mut svc = backend.svc().clone();
        svc.clock = clock.clone();
        Stack {
            _backend: backend,
            svc,
            clock,
        }
    }

    fn router(&self) -> axum::Router {
        router(self.svc.clone(), PortalConfig::new("http://127.0.0.1:3000"))
    }

    /// A stack with a practice whose main account is `chef@example.de` ([`PASSWORD`]).
    async fn with_owner() -> (Stack, Org) {
        let s = Stack::new();
        let (org, _) = practice(&s.svc, "Praxis Dr. Muster", Region::DE).await;
        s.account(&org, "chef@example.de", Role::Owner).await;
        (s, org)
    }

    /// An account with [`PASSWORD`].
    async fn account(&self, org: &Org, email: &str, role: Role) -> Account {
        let now = self.svc.clock.now();
        let a = Account {
            id: AccountId::new(now),
            org_id: org.id,
            email: EmailAddress::parse(email).expect("email"),
            role,
            password_hash: Some(praxis_portal::password::hash(PASSWORD).expect("hash")),
            sessions_valid_after: now - Duration::seconds(1),
            created_at: now,
        };
        assert!(self.svc.accounts.create_account(&a).await.expect("create"));
        a
    }

    async fn get(&self, path: &str, cookies: &str) -> http::Response<axum::body::Bytes> {
        let req = Request::get(path)
            .header(header::COOKIE, cookies)
            .body(axum::body::Body::empty())
            .expect("request");
        call(self.router(), req).await
    }

    async fn post(
        &self,
        path: &str,
        cookies: &str,
        form: &[(&str, &str)],
    ) -> http::Response<axum::body::Bytes> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let req = Request::post(path)
            .header(header::COOKIE, cookies)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(body))
            .expect("request");
        call(self.router(), req).await
    }

    /// The sign-in page's form token and its cookie.
    async fn form_cookie(&self) -> (String, String) {
        let res = self.get("/anmelden", "").await;
        let cookie = set_cookie(&res, "praxis_form").expect("form cookie");
        (cookie.clone(), format!("praxis_form={cookie}"))
    }

    async fn sign_in(&self, email: &str, password: &str) -> http::Response<axum::body::Bytes> {
        let (token, cookie) = self.form_cookie().await;
        self.post(
            "/anmelden",
            &cookie,
            &[("csrf", &token), ("email", email), ("password", password)],
        )
        .await
    }

    /// Signs in and returns the session cookie and the CSRF token of its forms.
    async fn session(&self, email: &str) -> (String, String) {
        let res = self.sign_in(email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", text(&res));
        let cookie = format!(
            "praxis_session={}",
            set_cookie(&res, "praxis_session").expect("session cookie")
        );
        let page = self.get("/textpruefer", &cookie).await;
        let csrf = hidden(&text(&page), "csrf").expect("csrf field");
        (cookie, csrf)
    }
}

fn text(res: &http::Response<axum::body::Bytes>) -> String {
    String::from_utf8_lossy(res.body()).into_owned()
}

fn set_cookie(res: &http::Response<axum::body::Bytes>, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|v| v.split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

/// The value of the first hidden input `name` of a page.
fn hidden(page: &str, name: &str) -> Option<String> {
    let at = page.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &page[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_owned())
}

#[tokio::test]
async fn a_wrong_password_gets_a_clear_message_and_no_session() {
    let (s, _) = Stack::with_owner().await;

    let res = s.sign_in("chef@example.de", "falsch falsch falsch").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(text(&res).contains("E-Mail-Adresse oder Passwort ist falsch."));
    assert_eq!(set_cookie(&res, "praxis_session"), None);

    // An unknown address gets the very same answer.
    let unknown = s.sign_in("niemand@example.de", PASSWORD).await;
    assert!(text(&unknown).contains("E-Mail-Adresse oder Passwort ist falsch."));
    assert_eq!(set_cookie(&unknown, "praxis_session"), None);

    // Without a session every page leads to the sign-in.
    let page = s.get("/sms", "").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()[header::LOCATION], "/anmelden");
}

#[tokio::test]
async fn the_right_password_opens_a_session_with_a_safe_cookie() {
    let (s, _) = Stack::with_owner().await;
    let res = s.sign_in("Chef@Example.de", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let raw = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("praxis_session="))
        .expect("session cookie")
        .to_owned();
    for part in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(raw.contains(part), "{raw}");
    }
    let (cookie, _) = s.session("chef@example.de").await;
    let page = s.get("/", &cookie).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(text(&page).contains("Übersicht"));
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("csp");
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let (s, org) = Stack::with_owner().await;
    let (cookie, csrf) = s.session("chef@example.de").await;
    let keys_before = s.svc.store.list_api_keys(org.id).await.expect("keys").len();

    for form in [
        vec![],
        vec![("csrf", "forged-token-forged-token-forged-token")],
    ] {
        let res = s.post("/organization/apikey", &cookie, &form).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(text(&res).contains("Es wurde nichts geändert."));
    }
    let res = s
        .post(
            "/einstellungen",
            &cookie,
            &[("sender", "Anders"), ("region", "DE")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        s.svc.store.list_api_keys(org.id).await.expect("keys").len(),
        keys_before
    );
    let org_now = s
        .svc
        .store
        .get_org(org.id)
        .await
        .expect("get")
        .expect("org");
    assert_eq!(org_now.default_sender, org.default_sender);

    // With its token the same form works.
    let res = s
        .post("/organization/apikey", &cookie, &[("csrf", &csrf)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(text(&res).contains("Ihr neuer API-Key"));
    assert_eq!(
        s.svc.store.list_api_keys(org.id).await.expect("keys").len(),
        keys_before + 1
    );

    // The sign-in form needs the token of its own cookie too.
    let res = s
        .post(
            "/anmelden",
            "",
            &[("email", "chef@example.de"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(set_cookie(&res, "praxis_session"), None);
}

#[tokio::test]
async fn another_practices_message_and_invoice_are_not_found() {
    let s = Stack::new();
    let (ours, _) = practice(&s.svc, "Praxis Eins", Region::DE).await;
    let (theirs, _) = practice(&s.svc, "Praxis Zwei", Region::DE).await;
    s.account(&ours, "eins@example.de", Role::Owner).await;
    let mine = pending_message(ours.id, "+4917612345678");
    let other = pending_message(theirs.id, "+4917612349999");
    s.svc
        .store
        .insert_messages(&[mine.clone(), other.clone()])
        .await
        .expect("insert");
    s.svc
        .store
        .apply(&Transition::new(mine.id, Status::Queued, Utc::now()))
        .await
        .expect("apply");
    let (cookie, _) = s.session("eins@example.de").await;

    let page = s.get(&format!("/sms/{}", mine.id), &cookie).await;
    assert_eq!(page.status(), StatusCode::OK);
    let body = text(&page);
    assert!(
        body.contains("ausstehend") && body.contains("noch kein Status"),
        "history shown"
    );

    let page = s.get(&format!("/sms/{}", other.id), &cookie).await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let list = text(&s.get("/sms", &cookie).await);
    assert!(list.contains(&mine.id.to_string()) && !list.contains(&other.id.to_string()));

    let invoice = praxis_shared::domain::InvoiceId::new(Utc::now());
    let page = s.get(&format!("/rechnungen/{invoice}/pdf"), &cookie).await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let page = s.get("/sms/not-an-id", &cookie).await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_team_member_sees_sms_and_replies_but_not_the_api_key_invoices_or_settings() {
    let s = Stack::new();
    let (org, _) = practice(&s.svc, "Praxis Dr. Muster", Region::DE).await;
    s.account(&org, "empfang@example.de", Role::Team).await;
    let (cookie, csrf) = s.session("empfang@example.de").await;
    for path in ["/", "/sms", "/antworten", "/textpruefer"] {
        assert_eq!(
            s.get(path, &cookie).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
    for path in ["/organization/apikey", "/rechnungen", "/einstellungen"] {
        assert_eq!(
            s.get(path, &cookie).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let res = s
        .post("/organization/apikey", &cookie, &[("csrf", &csrf)])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let nav = text(&s.get("/sms", &cookie).await);
    assert!(
        !nav.contains("/organization/apikey"),
        "no link to the key page"
    );
}

#[tokio::test]
async fn a_session_ends_when_left_idle_and_at_its_absolute_end() {
    let (s, _) = Stack::with_owner().await;
    let (cookie, _) = s.session("chef@example.de").await;
    s.clock
        .advance(praxis_portal::session::IDLE + Duration::seconds(1));
    let res = s.get("/sms", &cookie).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "idle too long");

    let (cookie, _) = s.session("chef@example.de").await;
    // Used every 30 minutes, it still ends 12 hours after sign-in.
    let mut used = Duration::zero();
    while used + Duration::minutes(30) < praxis_portal::session::ABSOLUTE {
        s.clock.advance(Duration::minutes(30));
        used += Duration::minutes(30);
        assert_eq!(s.get("/", &cookie).await.status(), StatusCode::OK);
    }
    s.clock.advance(Duration::minutes(30));
    assert_eq!(s.get("/", &cookie).await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session() {
    let (s, _) = Stack::with_owner().await;
    let (tablet, _) = s.session("chef@example.de").await;
    s.clock.advance(Duration::seconds(1));
    let (desk, csrf) = s.session("chef@example.de").await;
    assert_ne!(tablet, desk, "a new session at every sign-in");
    s.clock.advance(Duration::seconds(1));
    let res = s
        .post("/ueberall-abmelden", &desk, &[("csrf", &csrf)])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    for cookie in [&tablet, &desk] {
        assert_eq!(s.get("/", cookie).await.status(), StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn sign_in_is_throttled_after_five_failures_even_with_the_right_password() {
    let (s, _) = Stack::with_owner().await;
    for _ in 0..5 {
        let res = s.sign_in("chef@example.de", "falsch falsch falsch").await;
        assert!(text(&res).contains("falsch"));
    }
    let res = s.sign_in("chef@example.de", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(text(&res).contains("Zu viele fehlgeschlagene Anmeldungen"));
    assert_eq!(set_cookie(&res, "praxis_session"), None);
    // After the window it works again.
    s.clock.advance(Duration::minutes(16));
    assert_eq!(
        s.sign_in("chef@example.de", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_forgotten_password_link_is_mailed_and_works_once() {
    let (s, _) = Stack::with_owner().await;
    let (token, cookie) = s.form_cookie().await;
    let res = s
        .post(
            "/passwort-vergessen",
            &cookie,
            &[("csrf", &token), ("email", "chef@example.de")],
        )
        .await;
    assert!(text(&res).contains("haben wir Ihnen einen Link geschickt"));
    let link = mailed_link(&s, "chef@example.de");
    let new_pw = "ein ganz neues Passwort";
    let set = |pw: &'static str| {
        let (token, cookie, link) = (token.clone(), cookie.clone(), link.clone());
        let s = &s;
        async move {
            s.post(
                "/passwort-setzen",
                &cookie,
                &[("csrf", &token), ("token", &link), ("password", pw)],
            )
            .await
        }
    };
    let res = set(new_pw).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", text(&res));
    assert_eq!(
        s.sign_in("chef@example.de", new_pw).await.status(),
        StatusCode::SEE_OTHER
    );
    let again = set("noch ein anderes Passwort").await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&again).contains("abgelaufen oder wurde schon benutzt"));
}

#[tokio::test]
async fn an_invalid_default_sender_gets_a_clear_message_and_is_not_saved() {
    let (s, org) = Stack::with_owner().await;
    let (cookie, csrf) = s.session("chef@example.de").await;
    let res = s
        .post(
            "/einstellungen",
            &cookie,
            &[
                ("csrf", &csrf),
                ("sender", "Zahnärzte Müller"),
                ("region", "DE"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&res).contains("Nicht gespeichert"));
    let org_now = s
        .svc
        .store
        .get_org(org.id)
        .await
        .expect("get")
        .expect("org");
    assert_eq!(org_now.default_sender, org.default_sender);

    let res = s
        .post(
            "/einstellungen",
            &cookie,
            &[("csrf", &csrf), ("sender", "ZahnMueller"), ("region", "AT")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let org_now = s
        .svc
        .store
        .get_org(org.id)
        .await
        .expect("get")
        .expect("org");
    assert_eq!(
        org_now.default_sender.map(|s| s.as_str().to_owned()),
        Some("ZahnMueller".into())
    );
    assert_eq!(org_now.region.as_str(), "AT");
}

#[tokio::test]
async fn the_sign_in_page_answers_an_api_gateway_event() {
    let s = Stack::new();
    let req = lambda_http::request::from_str(&praxis_shared::testing::event(
        "portal/sign-in-page.json",
        &[],
    ))
    .expect("an API Gateway event");
    let res = call(s.router(), req).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(text(&res).contains("<h1>Anmelden</h1>"));
    assert!(set_cookie(&res, "praxis_form").is_some());
}

#[tokio::test]
async fn password_links_are_mailed_at_most_three_times_in_fifteen_minutes() {
    let (s, _) = Stack::with_owner().await;
    let (token, cookie) = s.form_cookie().await;
    for _ in 0..5 {
        let res = s
            .post(
                "/passwort-vergessen",
                &cookie,
                &[("csrf", &token), ("email", "chef@example.de")],
            )
            .await;
        assert!(text(&res).contains("haben wir Ihnen einen Link geschickt"));
    }
    let mails = std::fs::read_dir(s._backend.dir().join("outbox"))
        .expect("outbox")
        .filter_map(Result::ok)
        .filter(|e| std::fs::read_to_string(e.path()).is_ok_and(|m| m.contains("passwort-setzen")))
        .count();
    assert_eq!(mails, 3);
}

/// The link in the newest e-mail of the outbox that mentions `to`.
fn mailed_link(s: &Stack, to: &str) -> String {
    let mut mails: Vec<_> = std::fs::read_dir(s._backend.dir().join("outbox"))
        .expect("outbox")
        .filter_map(Result::ok)
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .filter(|m| m.contains(to) && m.contains("passwort-setzen"))
        .collect();
    let mail = mails.pop().expect("a mail with a link");
    let unfolded = mail
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    let at = unfolded.find("token=").expect("token in mail") + 6;
    unfolded[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

#[tokio::test]
async fn an_invited_team_member_sets_a_password_signs_in_and_is_removed() {
    let (s, org) = Stack::with_owner().await;
    let (owner, csrf) = s.session("chef@example.de").await;
    let res = s
        .post(
            "/einstellungen/team",
            &owner,
            &[("csrf", &csrf), ("email", "empfang@example.de")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The same address twice is refused.
    let again = s
        .post(
            "/einstellungen/team",
            &owner,
            &[("csrf", &csrf), ("email", "Empfang@example.de")],
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    let link = mailed_link(&s, "empfang@example.de");
    let (token, cookie) = s.form_cookie().await;
    let res = s
        .post(
            "/passwort-setzen",
            &cookie,
            &[("csrf", &token), ("token", &link), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (member, _) = s.session("empfang@example.de").await;
    assert_eq!(s.get("/sms", &member).await.status(), StatusCode::OK);
    assert_eq!(
        s.get("/einstellungen", &member).await.status(),
        StatusCode::NOT_FOUND
    );

    let accounts = s.svc.accounts.list_accounts(org.id).await.expect("list");
    let id = accounts
        .iter()
        .find(|a| a.role == Role::Team)
        .map(|a| a.id)
        .expect("the member");
    let res = s
        .post(
            &format!("/einstellungen/team/{id}/entfernen"),
            &owner,
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        s.get("/sms", &member).await.status(),
        StatusCode::SEE_OTHER,
        "a removed member's session is over"
    );
}

#[tokio::test]
async fn the_date_filter_counts_the_practices_days_not_utcs() {
    use praxis_shared::domain::local_time::{local_day, start_of_local_day};
    use praxis_shared::domain::message::Message;
    use praxis_shared::domain::{MessageId, MessageText, PhoneNumber, SenderId};
    let (s, org) = Stack::with_owner().await;
    // Yesterday in Berlin, and one message half an hour either side of its midnight: the
    // late one is UTC's yesterday too, but the practice's day before.
    let day = local_day(Region::DE, s.clock.now()) - Duration::days(1);
    let midnight = start_of_local_day(Region::DE, day);
    let at = |t: DateTime<Utc>, to: &str| {
        Message::accepted(
            MessageId::new(t),
            org.id,
            PhoneNumber::parse(to, Region::DE).expect("number"),
            SenderId::parse("Praxis").expect("sender"),
            MessageText::parse("Terminerinnerung", false).expect("text"),
            None,
            t,
        )
    };
    let before = at(midnight - Duration::minutes(30), "+4917612340001");
    let after = at(midnight + Duration::minutes(30), "+4917612340002");
    s.svc
        .store
        .insert_messages(&[before.clone(), after.clone()])
        .await
        .expect("insert");
    let (cookie, _) = s.session("chef@example.de").await;
    let d = day.format("%Y-%m-%d");
    let page = text(&s.get(&format!("/sms?von={d}&bis={d}"), &cookie).await);
    assert!(
        page.contains(&after.id.to_string()),
        "the day's message is listed"
    );
    assert!(
        !page.contains(&before.id.to_string()),
        "the message of the evening before is not"
    );
    let prev = (day - Duration::days(1)).format("%Y-%m-%d");
    let page = text(&s.get(&format!("/sms?von={prev}&bis={prev}"), &cookie).await);
    assert!(page.contains(&before.id.to_string()) && !page.contains(&after.id.to_string()));
}
