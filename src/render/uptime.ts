/** `45s`, `3m 12s`, `2h 3m`, `1d 4h`: the two largest units, as pm2 and docker show them. */
export function formatUptime(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000))
  const days = Math.floor(seconds / 86_400)
  const hours = Math.floor((seconds % 86_400) / 3600)
  const minutes = Math.floor((seconds % 3600) / 60)
  if (days > 0) return `${days}d ${hours}h`
  if (hours > 0) return `${hours}h ${minutes}m`
  if (minutes > 0) return `${minutes}m ${seconds % 60}s`
  return `${seconds}s`
}

export function uptimeSince(iso: string, now: Date = new Date()): string {
  return formatUptime(now.getTime() - new Date(iso).getTime())
}
