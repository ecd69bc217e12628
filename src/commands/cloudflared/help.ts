import {topicHelpCommand} from '../../cli/topic-help.js'

export default topicHelpCommand('cloudflared')
