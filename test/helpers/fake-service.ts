import {existsSync, readFileSync} from 'node:fs'

/** Every call the fake systemctl or launchctl recorded in the file env.FAKE_SERVICE_CALLS names: the arguments after the tool's name. */
export function fakeServiceCalls(env: NodeJS.ProcessEnv): string[][] {
  const file = env.FAKE_SERVICE_CALLS!
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as string[]).slice(1))
}
