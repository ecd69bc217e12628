// Copies the web inspector's page (static HTML, CSS and JavaScript, no build step of its own) into
// dist, where the supervisor serves it from (src/inspector-page.ts) and the package ships it.
import {cpSync} from 'node:fs'

cpSync('src/supervisor/inspect/page', 'dist/supervisor/inspect/page', {recursive: true})
