import type {Hook} from '@oclif/core'

/**
 * oclif would say `command tunnel:launch:3000 not found`, in its internal colon ids with the
 * arguments mixed in. Say it as the user typed it, point at the help that lists what exists, exit 2.
 */
const hook: Hook.CommandNotFound = async function ({id, config}) {
  const words = id.split(':')
  const topic = config.topics.find((t) => t.name === words[0])
  const typed = topic ? words.slice(0, 2).join(' ') : words[0]
  const help = topic ? `${config.bin} ${topic.name} --help` : `${config.bin} --help`
  process.stderr.write(`Error: Unknown command "${typed}". Run \`${help}\` to see the commands.\n`)
  this.exit(2)
}

export default hook
