/** The requests the proxy records: whose traffic each one was. */

/** Whose traffic a proxy route carries: a quick tunnel's (by its local port) or an endpoint's. */
export type RequestSource = {kind: 'tunnel'; port: number} | {kind: 'endpoint'; id: string}
