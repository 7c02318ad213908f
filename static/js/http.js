// Every request the page makes, same-origin, through one function. None of them throws:
// each answers { answered, ok, status, data }. `answered` is false when the server did not
// answer at all (status 0); `ok` is the HTTP status being 2xx; `data` is the JSON body
// ({} when there is none). What to tell the person is the caller's to say.
async function request(url, { method = "GET", headers = {}, body } = {}) {
  let response;
  try {
    response = await fetch(url, { method, credentials: "same-origin", headers, body });
  } catch {
    return { answered: false, ok: false, status: 0, data: {} };
  }
  let data = {};
  try {
    data = await response.json();
  } catch {
    data = {};
  }
  return { answered: true, ok: response.ok, status: response.status, data };
}

/** GET JSON, with these query parameters added to the URL. */
export function getJson(url, params = {}) {
  const target = new URL(url, location.href);
  for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
  return request(target.href, { headers: { Accept: "application/json" } });
}

/** POST a JSON body, with Django's CSRF token. */
export function postJson(url, body, csrfToken) {
  return request(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
    body: JSON.stringify(body),
  });
}

/** POST form data (a file upload), with Django's CSRF token. */
export function postForm(url, formData, csrfToken) {
  return request(url, { method: "POST", headers: { "X-CSRFToken": csrfToken }, body: formData });
}
