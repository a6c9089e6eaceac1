"""The portal in headless Chromium, as a practice manager uses it (tests/portal_e2e.sh starts the
stack): set the password from the operator's link, sign in (a wrong password first), see the SMS
with German statuses, open one and its history, filter by status, download an invoice PDF, create
an API key and use it against the API, revoke it and see the API refuse it, change the default
sender (an invalid one first), check a text, sign out. Optionally, screenshots of every page."""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

PASSWORD = "Sonnenschein-2026!"
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--created", required=True)
    ap.add_argument("--profile", required=True)
    ap.add_argument("--screenshots", action="store_true")
    a = ap.parse_args()
    created = json.loads(a.created)
    base = a.url
    key = created["api_key"]

    def api(path, key, body=None):
        req = urllib.request.Request(base + path, method="POST" if body else "GET")
        req.add_header("Authorization", "Bearer " + key)
        if body is not None:
            req.add_header("Content-Type", "application/json")
            req.data = json.dumps(body).encode()
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, {}

    # Messages the sim carrier answers in different ways (last four digits, docs/carriers.md).
    texts = [
        ("01761234567", "Terminerinnerung Silvana Müller: 19.08. um 16:30 Uhr. Bei Verhinderung absagen unter 01234-567890"),
        ("01761230000", "Hallo Frau Müller, es ist wieder Zeit für eine Kontrolle. Rufen Sie uns bitte an."),
        ("01761231111", "Terminbestätigung für Herrn Schmidt: 21.08. um 09:15 Uhr."),
        ("01761239876", "Liebe Patientin, bitte vereinbaren Sie einen Vorsorgetermin mit uns 😊"),
        ("01761114321", "Erinnerung: Prophylaxe-Termin morgen um 10:00 Uhr."),
        ("01701230000", "Ihr Termin am 02.12. um 14:00 Uhr ist bestätigt."),
    ]
    ids = []
    for to, text in texts:
        status, body = api("/v1/messages", key, {"to": to, "text": text})
        check(status == 202, f"API accepts a message ({status})")
        ids.append(body.get("id"))
    subprocess.run([a.bin, "sim", "inbound", "--data-dir", a.data_dir, "--addr", base,
                    "--to", "+4915112340077", "--from", "+491761234567",
                    "--text", "Danke, ich komme!"], check=True, capture_output=True)
    subprocess.run([a.bin, "sim", "inbound", "--data-dir", a.data_dir, "--addr", base,
                    "--to", "+4915112340077", "--from", "+491761239876",
                    "--text", "STOP"], check=True, capture_output=True)
    time.sleep(1.5)  # the sim carrier reports delivery through its webhook
    month = time.strftime("%Y-%m", time.gmtime())
    subprocess.run([a.bin, "invoices", "run", "--data-dir", a.data_dir, "--month", month,
                    "--org", created["id"], "--public-url", base],
                   check=True, capture_output=True)

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
                 f"--user-data-dir={a.profile}", "--window-size=1280,900", "--lang=de-DE"]:
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    driver.set_page_load_timeout(20)
    wait = WebDriverWait(driver, 10)
    try:
        run(driver, wait, base, created, api, ids, a.screenshots)
    finally:
        driver.quit()
    print(f"portal e2e: {len(failures)} failed", flush=True)
    return 1 if failures else 0


def run(d, wait, base, created, api, ids, screenshots):
    def go(element):
        """Clicks what leads to another page and waits until that page has loaded."""
        old = d.find_element(By.TAG_NAME, "html")
        element.click()
        wait.until(ec.staleness_of(old))
        wait.until(lambda _: d.execute_script("return document.readyState") == "complete")

    h1 = lambda: d.find_element(By.TAG_NAME, "h1").text
    body = lambda: d.find_element(By.TAG_NAME, "body").text

    # The operator's link sets the main account's password.
    d.get(created["portal_set_password_link"])
    check(h1() == "Passwort setzen", "the set-password link opens its form")
    d.find_element(By.ID, "password").send_keys(PASSWORD)
    go(d.find_element(By.CSS_SELECTOR, "form button"))
    check("Ihr Passwort ist gesetzt" in body(), "the password is set, sign-in page says so")

    email = created["email"]
    d.find_element(By.ID, "email").send_keys(email)
    d.find_element(By.ID, "password").send_keys("falsch-falsch")
    go(d.find_element(By.CSS_SELECTOR, "form button"))
    check("E-Mail-Adresse oder Passwort ist falsch." in body(), "a wrong password: a clear message")
    check(d.get_cookie("praxis_session") is None, "a wrong password: no session cookie")
    shot(d, screenshots, "anmelden")

    d.find_element(By.ID, "password").send_keys(PASSWORD)
    go(d.find_element(By.CSS_SELECTOR, "form button"))
    check(h1() == "Übersicht", "signed in: the overview")
    check(d.get_cookie("praxis_session") is not None, "signed in: a session cookie")
    check(len(d.find_elements(By.CSS_SELECTOR, "svg.bars rect")) > 0, "the overview's chart has bars")
    shot(d, screenshots, "uebersicht")

    d.get(base + "/sms")
    badges = [b.text for b in d.find_elements(By.CSS_SELECTOR, "td .badge")]
    check("zugestellt" in badges, f"German statuses in the list: {sorted(set(badges))}")
    check("nicht ausgeliefert" in badges, "an undelivered message shows as 'nicht ausgeliefert'")
    shot(d, screenshots, "sms")

    Select(d.find_element(By.ID, "status")).select_by_visible_text("nicht ausgeliefert")
    go(d.find_element(By.CSS_SELECTOR, "form.filters button"))
    wait.until(lambda _: "status=undelivered" in d.current_url)
    badges = [b.text for b in d.find_elements(By.CSS_SELECTOR, "td .badge")]
    check(badges and all(b == "nicht ausgeliefert" for b in badges), f"filter by status: {badges}")

    d.get(base + "/sms")
    go(d.find_element(By.CSS_SELECTOR, "td a"))
    history = [li.text for li in d.find_elements(By.CSS_SELECTOR, "ol.history li")]
    check(h1() == "SMS im Detail" and len(history) >= 3, f"a message's history: {history}")
    shot(d, screenshots, "sms-detail")

    d.get(base + "/rechnungen")
    links = d.find_elements(By.CSS_SELECTOR, "a.download")
    check(len(links) == 1, "the invoice is listed with a download link")
    if links:
        req = urllib.request.Request(links[0].get_attribute("href"))
        req.add_header("Cookie", "praxis_session=" + d.get_cookie("praxis_session")["value"])
        with urllib.request.urlopen(req, timeout=10) as r:
            pdf = r.read()
        check(pdf.startswith(b"%PDF"), "the download is the invoice PDF")
    shot(d, screenshots, "rechnungen")

    d.get(base + "/organization/apikey")
    shot(d, screenshots, "api-key")
    go(d.find_element(By.XPATH, "//button[text()='Neuen API-Key erstellen']"))
    found = d.find_elements(By.ID, "api-key")
    if not found:
        print(body(), flush=True)
    new_key = found[0].get_attribute("value") if found else ""
    check(new_key.startswith("pxs_"), "a new key is shown once")
    check(d.find_element(By.CSS_SELECTOR, "[data-copy-target]").is_displayed(), "with a copy button")
    shot(d, screenshots, "api-key-neu")
    status, who = api("/v1/key-check", new_key)
    check(status == 200, f"the new key works against the API ({status})")
    d.get(base + "/organization/apikey")
    check(new_key not in d.page_source, "the key is not shown again")
    row = [r.text for r in d.find_elements(By.CSS_SELECTOR, "tbody tr") if new_key[:10] in r.text]
    check(row and "noch nie" not in row[0], f"the key's last use is shown: {row}")
    revokes = d.find_elements(By.CSS_SELECTOR, "a.button.danger")
    go(revokes[-1])
    check(h1() == "API-Key widerrufen", "revoking asks for confirmation")
    go(d.find_element(By.XPATH, "//button[text()='Ja, widerrufen']"))
    check("widerrufen" in body(), "the key is revoked")
    status, _ = api("/v1/key-check", new_key)
    check(status == 401, f"the API refuses the revoked key ({status})")

    d.get(base + "/einstellungen")
    sender = d.find_element(By.ID, "sender")
    sender.clear()
    sender.send_keys("Zahnärzte Müller")
    wait.until(lambda _: d.find_element(By.ID, "sender-check").text != "")
    check("Umlaute" in d.find_element(By.ID, "sender-check").text, "the sender is checked as one types")
    go(d.find_element(By.XPATH, "//button[text()='Speichern']"))
    check("Nicht gespeichert" in body(), "an invalid sender: a clear message")
    shot(d, screenshots, "einstellungen-fehler")
    sender = d.find_element(By.ID, "sender")
    sender.clear()
    sender.send_keys("ZahnSonne")
    go(d.find_element(By.XPATH, "//button[text()='Speichern']"))
    check("Gespeichert." in body(), "a valid sender is saved")
    status, who = api("/v1/key-check", created["api_key"])
    check(who.get("default_sender") == "ZahnSonne" or "ZahnSonne" in json.dumps(who),
          f"the API sees the new sender: {who}")
    shot(d, screenshots, "einstellungen")

    d.get(base + "/antworten")
    check("Danke, ich komme!" in body(), "a patient's reply is listed")
    shot(d, screenshots, "antworten")

    d.get(base + "/textpruefer")
    text = d.find_element(By.ID, "text")
    text.clear()
    text.send_keys("Wir freuen uns auf Sie 😊")
    wait.until(lambda _: d.find_element(By.CSS_SELECTOR, "[data-out=encoding]").text == "UCS-2")
    check(len(d.find_elements(By.CSS_SELECTOR, "[data-out=forcing] mark")) > 0,
          "the text checker marks what forces UCS-2")
    shot(d, screenshots, "textpruefer")

    go(d.find_element(By.XPATH, "//button[text()='Abmelden']"))
    check("Sie sind abgemeldet." in body(), "signed out")
    d.get(base + "/sms")
    check(h1() == "Anmelden", "after signing out the SMS need a sign-in again")


def shot(d, enabled, name):
    """The whole page at a desktop and a phone width (Chromium's device emulation, so the page
    lays out as on that screen), as PNG files in docs/screenshots/."""
    if not enabled:
        return
    import base64

    os.makedirs("docs/screenshots", exist_ok=True)
    for width, label in [(1280, "desktop"), (390, "schmal")]:
        metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600}
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        height = d.execute_script("return document.documentElement.scrollHeight")
        metrics["height"] = min(max(height, 600), 3000)
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        png = d.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})["data"]
        with open(f"docs/screenshots/{name}-{label}.png", "wb") as f:
            f.write(base64.b64decode(png))
    d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


if __name__ == "__main__":
    started = time.time()
    code = main()
    print(f"portal e2e: {time.time() - started:.1f} s", flush=True)
    sys.exit(code)
