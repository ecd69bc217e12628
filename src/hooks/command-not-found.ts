import type {Hook} from '@oclif/core'
import {distance} from 'fastest-levenshtein'
import {badInput} from '../errors.js'

/**
 * oclif would say `command tunnel:launch:3000 not found`, in its internal colon ids with the
 * arguments mixed in. Say it as the user typed it: words after a command that takes no arguments
 * are unexpected arguments; otherwise the command is unknown, with the closest one as a suggestion
 * (as @oclif/plugin-not-found finds it, without its prompt: a mistyped command never waits for an
 * answer). Thrown, it is reported as every failure is: exit 2, JSON with --json (see run-oclif.ts).
 */
const hook: Hook.CommandNotFound = async function ({id, config}) {
  const words = id.split(':')
  const ids = config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases])
  const command = ids.filter((c) => startsWithWords(words, c)).sort((a, b) => b.length - a.length)[0]
  if (command) {
    const extra = words.slice(command.split(':').length)
    throw badInput(`Unexpected argument: ${extra[0]}. \`${config.bin} ${spaced(command)}\` takes no arguments; see \`${config.bin} ${spaced(command)} --help\`.`)
  }

  const topic = config.topics.find((t) => t.name === words[0])
  const help = topic ? `${config.bin} ${topic.name} --help` : `${config.bin} --help`
  const closest = closestCommand(words, ids)
  const typed = closest ? closest.typed : words.slice(0, topic ? 2 : 1)
  const didYouMean = closest ? ` Did you mean ${closest.suggestion}?` : ''
  throw badInput(`Unknown command "${typed.join(' ')}".${didYouMean} Run \`${help}\` to see the commands.`)
}

function startsWithWords(words: string[], commandId: string): boolean {
  const commandWords = commandId.split(':')
  return commandWords.every((word, i) => words[i] === word)
}

/**
 * The command closest to the words typed, with the arguments that followed them, and the words it
 * stands for; none when every command is far.
 */
function closestCommand(words: string[], ids: string[]): {typed: string[]; suggestion: string} | undefined {
  const ranked = ids
    .map((commandId) => {
      const typed = words.slice(0, commandId.split(':').length)
      const joined = typed.join(':')
      return {commandId, typed, distance: distance(joined, commandId), lengthDifference: Math.abs(joined.length - commandId.length)}
    })
    // Between two as close, the one as long as what was typed: "stauts" is status swapped, not start.
    .sort((a, b) => a.distance - b.distance || a.lengthDifference - b.lengthDifference)
  const best = ranked[0]
  // A quarter of the name may be mistyped: "tunel list", "expose stpo", but not "tunnel launch" for "tunnel list".
  if (!best || best.distance > Math.max(1, Math.floor(best.commandId.length / 4))) return undefined
  return {typed: best.typed, suggestion: spaced([best.commandId, ...words.slice(best.typed.length)].join(':'))}
}

function spaced(commandId: string): string {
  return commandId.replaceAll(':', ' ')
}

export default hook
