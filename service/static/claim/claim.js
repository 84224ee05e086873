// The claim page's behaviour: log in through the platform's page, claim, show the codes.
//
// The claim token never leaves this origin: the platform gets a fixed redirect_uri and a random
// state, and the token waits beside that state in this tab's sessionStorage. The access token
// lives there too (this tab only, for its short life) and the session ends once the codes show.
// Everything the API says is put on the page as text, never as HTML.
"use strict";

(function () {
  const LOGIN = "minifin.claim.login"; // {state, token} while the platform's page is open
  const SESSION = "minifin.claim.session"; // {access_token, expires_at, nickname}
  const REFUSALS = {
    not_the_recipient: "This gift is for someone else. Log in as the person it was sent to. 这份礼物是送给别人的。",
    phone_not_verified:
      "This gift was sent to a phone number, and your Alipay account did not share a verified " +
      "mobile number with us. 你的支付宝账号没有提供已验证的手机号。",
    gift_already_claimed: "This gift has already been claimed. 这份礼物已被领取。",
    claim_window_closed: "The time to claim this gift has passed. 这份礼物已过期。",
    claim_not_found: "This gift can no longer be claimed. 这份礼物已无法领取。",
  };
  const root = document.getElementById("claim");
  const $ = (id) => document.getElementById(id);

  function problem(text) {
    const box = $("problem");
    box.textContent = text;
    box.hidden = false;
  }

  function randomState() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function readJson(key) {
    try {
      return JSON.parse(sessionStorage.getItem(key));
    } catch (error) {
      return null;
    }
  }

  function currentSession() {
    const session = readJson(SESSION);
    if (session && session.access_token && session.expires_at > Date.now()) {
      return session;
    }
    sessionStorage.removeItem(SESSION);
    return null;
  }

  async function api(method, path, accessToken, body) {
    const headers = { Accept: "application/json" };
    if (accessToken) headers.Authorization = "Bearer " + accessToken;
    if (body) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      body: body ? JSON.stringify(body) : undefined,
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
    const data = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, data };
  }

  function endSession(session) {
    sessionStorage.removeItem(SESSION);
    if (session) api("DELETE", "/v1/sessions/current", session.access_token).catch(() => {});
  }

  function logIn() {
    const state = randomState();
    sessionStorage.setItem(LOGIN, JSON.stringify({ state, token: root.dataset.token }));
    const url = new URL(root.dataset.authorizeUrl);
    url.searchParams.set("app_id", root.dataset.appId);
    url.searchParams.set("scope", "auth_user");
    url.searchParams.set("redirect_uri", root.dataset.returnUrl);
    url.searchParams.set("state", state);
    location.assign(url.toString());
  }

  // Back from the platform: check the state, exchange the code, return to the gift.
  async function loginReturned() {
    const params = new URLSearchParams(location.search);
    history.replaceState(null, "", location.pathname); // the code leaves the address bar
    const pending = readJson(LOGIN);
    sessionStorage.removeItem(LOGIN);
    $("progress").hidden = true;
    if (!pending || !pending.token || params.get("state") !== pending.state) {
      problem("This login was not started from a gift link here. Open your gift link again.");
      return;
    }
    const back = "/claim/" + encodeURIComponent(pending.token);
    if (!params.get("auth_code")) {
      location.replace(back); // declined at the platform: back to the gift, still logged out
      return;
    }
    const login = await api("POST", "/v1/sessions", null, { auth_code: params.get("auth_code") });
    if (!login.ok) {
      problem(login.data.detail || "Logging in did not work; open your gift link and try again.");
      return;
    }
    sessionStorage.setItem(
      SESSION,
      JSON.stringify({
        access_token: login.data.access_token,
        expires_at: Date.now() + login.data.expires_in * 1000,
        nickname: (login.data.user && login.data.user.nickname) || "",
      })
    );
    location.replace(back);
  }

  function yuan(fen) {
    return "¥" + (fen / 100).toFixed(2);
  }

  async function showVouchers(session, claimed) {
    const list = $("voucher-list");
    for (const voucher of claimed.vouchers) {
      const full = await api("GET", "/v1/vouchers/" + encodeURIComponent(voucher.id), session.access_token);
      const item = document.createElement("li");
      item.dataset.testid = "voucher";
      const title = document.createElement("div");
      title.textContent = claimed.template_name + " · " + yuan(voucher.face_value_fen);
      const code = document.createElement("code");
      code.textContent = full.ok ? full.data.code : voucher.code_masked;
      const until = document.createElement("div");
      until.className = "muted";
      until.textContent = voucher.expires_at ? "Valid until " + voucher.expires_at.slice(0, 10) : "";
      item.append(title, code, until);
      list.append(item);
    }
    $("vouchers").hidden = false;
  }

  async function claim(session) {
    const button = $("claim-button");
    button.disabled = true;
    $("problem").hidden = true;
    const answer = await api("POST", "/v1/claims/" + encodeURIComponent(root.dataset.token), session.access_token);
    if (answer.status === 401) {
      endSession(null);
      showLogin();
      problem("Your login has ended; log in again.");
      return;
    }
    if (!answer.ok) {
      problem(REFUSALS[answer.data.code] || answer.data.detail || "The gift could not be claimed.");
      button.disabled = answer.data.code in REFUSALS; // final for this login; other failures may pass
      return;
    }
    $("ready").hidden = true;
    await showVouchers(session, answer.data);
    endSession(session);
  }

  function showLogin() {
    $("ready").hidden = true;
    $("login").hidden = false;
  }

  function giftPage() {
    if (root.dataset.state !== "open") return; // the page already says why not
    $("login-button").addEventListener("click", logIn);
    const session = currentSession();
    if (!session) {
      showLogin();
      return;
    }
    $("who").textContent = session.nickname || "you";
    $("ready").hidden = false;
    $("claim-button").addEventListener("click", () => claim(session));
    $("switch-button").addEventListener("click", () => {
      endSession(session);
      logIn();
    });
  }

  if (root.dataset.mode === "return") {
    loginReturned();
  } else if (root.dataset.mode === "gift") {
    giftPage();
  }
})();
