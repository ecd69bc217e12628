/** One finding of `tunnelctl doctor`. Anything that is not ok says what to do about it. */
export type Check = {id: string; summary: string} & ({status: 'ok'} | {status: 'warn' | 'problem'; fix: string})

export type CheckStatus = Check['status']
