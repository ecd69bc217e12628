/** Whether stdout may carry colour: a terminal, and the user has not asked for NO_COLOR. */
export function colorEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb'
}
