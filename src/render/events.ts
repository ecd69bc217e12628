import {showValue} from '../config/settings.js'
import type {SupervisorEvent} from '../protocol/events.js'

/** One event as `<time>  <type>  <details>`, a crash followed by the last lines its process printed. */
export function formatEvent(event: SupervisorEvent): string {
  const head = `${event.time}  ${event.type}  ${details(event)}`
  const lastLines = event.type === 'tunnel.crashed' || event.type === 'expose.restarting' || event.type === 'expose.failed' ? event.lastLines : []
  return [head, ...lastLines.map((line) => `    | ${line}`)].join('\n')
}

function whose(event: {endpoint: string | null; provider: string}): string {
  return event.endpoint ? `${event.endpoint}  ${event.provider}` : `${event.provider} (shared)`
}

function details(event: SupervisorEvent): string {
  switch (event.type) {
    case 'supervisor.started':
      return `pid ${event.pid}, tunnelctl ${event.version}`
    case 'supervisor.stopped':
      return `pid ${event.pid}: ${event.reason}`
    case 'tunnel.started':
    case 'tunnel.stopped':
      return `port ${event.port}  ${event.url ?? '(no URL yet)'}`
    case 'tunnel.lost':
      return `port ${event.port}  cloudflared ${event.pid} outlived its supervisor and was stopped`
    case 'tunnel.crashed': {
      const how = event.signal ? `killed by ${event.signal}` : `exited with code ${event.exitCode}`
      return `port ${event.port}  ${event.url ?? '(no URL yet)'}  ${how}`
    }

    case 'expose.started':
    case 'expose.up':
    case 'expose.stopped':
      return `${event.endpoint}  ${event.provider}  ${event.url ?? '(no URL yet)'}`
    case 'expose.restarting':
      return `${whose(event)}  ${event.reason}; restart ${event.restarts} in ${event.delayMs / 1000}s`
    case 'expose.failed':
      return `${whose(event)}  ${event.reason}; failed after ${event.restarts} restarts, tried again every ${event.delayMs / 1000}s or more`
    case 'expose.recovered':
      return `${whose(event)}  up again after ${event.restarts} restarts`

    case 'expose.url_changed':
      return `${event.endpoint}  ${event.oldUrl} -> ${event.newUrl}`
    case 'expose.unavailable':
      return `${event.endpoint}  ${event.provider}: ${event.reason}`
    case 'expose.broken':
      return `${event.file}: ${event.reason}`
    case 'settings.invalid':
      if (event.key !== undefined) {
        return `${event.file}: ${event.key} is ${showValue(event.value)}: ${event.reason} Until it is fixed the supervisor uses the setting's default, if any`
      }

      return `${event.file}: ${event.reason}; the supervisor keeps the settings it last read until the file is fixed or deleted`
  }
}
