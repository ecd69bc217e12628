import {Args, Flags} from '@oclif/core'
import {settingFor} from '../config/settings.js'
import {parseEndpointId} from '../protocol/endpoints.js'
import {type ExposeTarget, parseExposeTarget} from '../protocol/expose-target.js'
import {type LocalTarget, parseTarget} from '../protocol/local-target.js'
import {parsePortArgument} from '../ports.js'
import {parseCount, parseTimeoutSeconds} from './parse.js'

/*
 * The arguments and flags commands share, typed with oclif around our own parsers: a command gets a
 * number or a checked string, help shows what to give, and bad input fails at parse time with our
 * message (exit 2, nothing started).
 */

/** A local port, 1-65535. */
export const portArg = Args.custom<number>({parse: async (input) => parsePortArgument(input)})

/** A local server as people write it: `3000`, `localhost:3000`, `https://localhost:8443`. */
export const targetArg = Args.custom<LocalTarget>({parse: async (input) => parseTarget(input)})

/** What an endpoint publishes: a local server as targetArg takes it, or `unix:/path/to/app.sock`. */
export const exposeTargetArg = Args.custom<ExposeTarget>({parse: async (input) => parseExposeTarget(input)})

/** An endpoint's id, as `expose list` shows it. */
export const endpointIdArg = Args.custom<string>({parse: async (input) => parseEndpointId(input)})

/** A setting's name, as `config list` shows it. */
export const settingKeyArg = Args.custom<string>({
  parse: async (input) => {
    settingFor(input)
    return input
  },
})

/** `--timeout <seconds>`, as milliseconds. */
export function timeoutFlag(description: string) {
  return Flags.custom<number>({
    description,
    helpValue: '<seconds>',
    default: 30_000,
    defaultHelp: async () => '30',
    parse: async (input) => parseTimeoutSeconds(input),
  })()
}

/** `-n, --<name> <count>`: how many of something to show. */
export function countFlag(name: string, description: string, fallback: number) {
  return Flags.custom<number>({
    char: 'n',
    description,
    helpValue: '<count>',
    default: fallback,
    parse: async (input) => parseCount(name, input, fallback),
  })()
}
