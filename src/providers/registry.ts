import {badInput, TunnelctlError} from '../errors.js'
import {createCloudflareProvider} from './cloudflare/cloudflare-provider.js'
import {createCustomProvider} from './custom/custom-provider.js'
import {createLocalProvider} from './local/local-provider.js'
import type {Provider, ProviderContext} from './provider.js'
import {createTailscaleProvider} from './tailscale/tailscale-provider.js'

const BUILT_IN: Record<string, (context: ProviderContext) => Provider> = {
  cloudflare: createCloudflareProvider,
  tailscale: createTailscaleProvider,
  local: createLocalProvider,
}

/** The providers by name: the built-in ones and every custom.<name> the user has configured. Each is made once, when first needed. */
export class ProviderRegistry {
  private readonly made = new Map<string, Provider>()

  constructor(private readonly context: ProviderContext) {}

  names(): string[] {
    return [...Object.keys(BUILT_IN), ...this.context.settings.customProviders().map((custom) => custom.name)]
  }

  /** The provider, or undefined when there is none of that name (a custom one may have been unset since). */
  get(name: string): Provider | undefined {
    const made = this.made.get(name)
    if (made) return made
    const create = BUILT_IN[name] ?? (this.names().includes(name) ? (context: ProviderContext) => createCustomProvider(context, name) : undefined)
    if (!create) return undefined
    const provider = create(this.context)
    this.made.set(name, provider)
    return provider
  }

  /**
   * The provider asked for, or when none was, the only one available but local: local puts the port
   * on the network with no login unless asked for one, so it is only ever chosen by name. Refuses
   * with what there is, and how to set up each that is not available.
   */
  async choose(requested: string | undefined, searchPath: string | undefined): Promise<Provider> {
    if (requested !== undefined) {
      const provider = this.get(requested)
      if (!provider) {
        throw badInput(
          `There is no provider "${requested}". Providers: ${this.names().join(', ')}; ` +
            `add your own with \`tunnelctl config set custom.${/^[a-z][a-z0-9-]*$/.test(requested) ? requested : '<name>'}.command …\`.`,
        )
      }

      const why = await provider.unavailable(searchPath)
      if (why) throw new TunnelctlError('PROVIDER_UNAVAILABLE', `The ${provider.name} provider is not available: ${why}`)
      return provider
    }

    const candidates = this.names()
      .filter((name) => name !== 'local')
      .map((name) => this.get(name) as Provider)
    const reasons = await Promise.all(candidates.map((provider) => provider.unavailable(searchPath)))
    const available = candidates.filter((_, i) => reasons[i] === undefined)
    if (available.length === 1) return available[0]
    if (available.length > 1) {
      throw badInput(`Several providers are available: ${available.map((p) => p.name).join(', ')}. Choose one with --provider <name>.`)
    }

    const setUp = candidates.map((provider, i) => `  ${provider.name}: ${reasons[i]?.replaceAll('\n', '\n    ')}`)
    if (this.context.settings.customProviders().length === 0) {
      setUp.push('  your own: a command that opens a tunnel (ssh -R, …), with `tunnelctl config set custom.<name>.command …` and `custom.<name>.match …`')
    }
    throw badInput(
      `No provider is available but local, which is used only when named: it puts the target on this machine's network, open to anyone there unless you add --auth. ` +
        `Give --provider local for that, or set one of these up:\n${setUp.join('\n')}`,
    )
  }

  /** Ends every process of every provider made so far. */
  async close(): Promise<void> {
    await Promise.all([...this.made.values()].map((provider) => provider.close()))
  }
}
