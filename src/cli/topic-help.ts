import {type Command, loadHelpClass} from '@oclif/core'

export interface TopicCommand {
  command: string
  summary: string
}

/** Prints oclif's help for the topic (unless --json is on) and returns its commands, for `<topic> help`. */
export async function showTopicHelp(command: Command, topic: string): Promise<{commands: TopicCommand[]}> {
  const {config} = command
  if (!command.jsonEnabled()) {
    const Help = await loadHelpClass(config)
    await new Help(config).showHelp([topic])
  }

  const commands = config.commands
    .filter((c) => c.id.startsWith(`${topic}:`) && !c.hidden)
    .map((c) => ({command: c.id.replaceAll(':', ' '), summary: c.summary ?? ''}))
    .sort((a, b) => a.command.localeCompare(b.command))
  return {commands}
}
