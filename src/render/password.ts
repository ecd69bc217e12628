/** A new Basic auth password, as `--auth` shows it once; `renew` says how to get another. */
export function renderCredentials(password: string, renew: string): string {
  return [`Username: tunnelctl`, `Password: ${password}`, `The password is shown this once and stored nowhere; ${renew}.`].join('\n')
}
