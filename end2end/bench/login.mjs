// Logs a page in through podterm's login form, as a person does; the benchmark scripts
// share it.
export async function logIn(page, url, token) {
  await page.goto(`${url}/login`);
  await page.fill("#token", token);
  await Promise.all([page.waitForURL((u) => !u.pathname.endsWith("/login")), page.press("#token", "Enter")]);
}
