/* /protect page: the chosen files go to the hashing worker (protect-worker.js) and nowhere else.
 * What this script sends: a request for a proof-of-work challenge, then one JSON body with the
 * hashes, the solved counter and the two answers (under 18, confirmed). Nothing else. */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("protect-text").textContent);
  var box = document.getElementById("protect-form");
  var input = document.getElementById("files");
  var filesStatus = document.getElementById("files-status");
  var under18 = document.getElementById("under18");
  var confirmBox = document.getElementById("confirm");
  var send = document.getElementById("send");
  var progress = document.getElementById("progress");
  var errorLine = document.getElementById("error");
  var receipt = document.getElementById("receipt");
  box.hidden = false;

  var worker = new Worker("/protect/static/protect-worker.js");
  var seq = 0;
  var pending = {};
  worker.onmessage = function (ev) {
    var m = ev.data || {};
    var p = pending[m.id];
    if (!p) return;
    if (Object.prototype.hasOwnProperty.call(m, "progress")) {
      if (p.progress) p.progress(m.progress);
      return;
    }
    delete pending[m.id];
    if (m.ok) p.resolve(m.result); else p.reject(new Error(m.error));
  };
  function call(msg, onProgress) {
    return new Promise(function (resolve, reject) {
      seq += 1;
      pending[seq] = { resolve: resolve, reject: reject, progress: onProgress };
      msg.id = seq;
      worker.postMessage(msg);
    });
  }

  var hashing = null;
  function hashAll() {
    var files = Array.prototype.slice.call(input.files || []);
    if (!files.length) return null;
    filesStatus.textContent = T.working;
    var results = [];
    var chain = Promise.resolve();
    files.forEach(function (f, i) {
      chain = chain.then(function () {
        var prefix = T.working + (files.length > 1 ? " (" + (i + 1) + "/" + files.length + ")" : "");
        filesStatus.textContent = prefix;
        return call({ op: "hash-file", file: f }, function (part) {
          if (f.size > 8 * 1024 * 1024) filesStatus.textContent = prefix + " " + Math.round(part * 100) + "%";
        }).then(function (r) { results.push(r); });
      });
    });
    return chain.then(function () {
      filesStatus.textContent = T.files_ready + ": " + results.length + ". " + T.ready;
      return results;
    });
  }
  input.addEventListener("change", function () {
    errorLine.textContent = "";
    hashing = hashAll();
    if (hashing) hashing.catch(function () { filesStatus.textContent = ""; });
  });

  function postJSON(path, body) {
    return fetch(path, {
      method: "POST",
      credentials: "omit",
      cache: "no-store",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {
          var e = new Error((data.error && data.error.code) || ("HTTP " + r.status));
          e.status = r.status;
          throw e;
        }
        return data;
      });
    });
  }

  function fail(e) {
    progress.textContent = "";
    errorLine.textContent = e && e.status === 429 ? T.rate_limited : T.error;
    send.disabled = false;
  }

  send.addEventListener("click", function () {
    errorLine.textContent = "";
    if (!input.files || !input.files.length) { errorLine.textContent = T.need_file; input.focus(); return; }
    if (!confirmBox.checked) { errorLine.textContent = T.need_confirm; confirmBox.focus(); return; }
    send.disabled = true;
    progress.textContent = T.working;
    var results, ch;
    (hashing || (hashing = hashAll())).then(function (r) {
      results = r;
      progress.textContent = T.proving;
      return postJSON("/protect/api/challenge", {});
    }).then(function (c) {
      ch = c;
      return call({ op: "pow", challenge: c.challenge, bits: c.bits });
    }).then(function (sol) {
      progress.textContent = T.sending;
      var hashes = [];
      results.forEach(function (r) {
        if (r.pdq) hashes.push({ type: "pdq", value: r.pdq, quality: r.pdq_quality, kind: "image" });
        hashes.push({ type: "md5", value: r.md5, kind: r.kind });
      });
      return postJSON("/protect/api/submit", {
        challenge: ch.challenge,
        counter: sol.counter,
        under_18: under18.checked,
        confirm: true,
        language: document.documentElement.lang,
        hashes: hashes,
      });
    }).then(function (res) {
      progress.textContent = "";
      document.getElementById("case-number").textContent = res.case_number;
      document.getElementById("case-secret").textContent = res.secret;
      document.getElementById("low-quality").hidden = !(res.skipped && res.skipped.length);
      box.hidden = true;
      input.value = "";
      hashing = null;
      receipt.hidden = false;
      receipt.focus();
    }).catch(fail);
  });
})();
