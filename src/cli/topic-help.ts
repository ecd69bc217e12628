import {type Command, loadHelpClass} from '@oclif/core'
import {TunnelctlCommand} from './base-command.js'

export interface TopicCommand {
  command: string
  summary: string
}

/** The `<topic> help` command: oclif's help for the topic, or with --json its commands. */
export function topicHelpCommand(topic: string): typeof TunnelctlCommand {
  return class TopicHelp extends TunnelctlCommand {
    static override summary = `Show help for the ${topic} commands.`
    static override examples = [`<%= config.bin %> ${topic} help`, `<%= config.bin %> ${topic} help --json`]

    async run(): Promise<{commands: TopicCommand[]}> {
      await this.parse(TopicHelp)
      return showTopicHelp(this, topic)
    }
  }
}

/** Prints oclif's help for the topic (unless --json is on) and returns its commands. */
async function showTopicHelp(command: Command, topic: string): Promise<{commands: TopicCommand[]}> {
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
