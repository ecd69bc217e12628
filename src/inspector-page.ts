import {fileURLToPath} from 'node:url'

/**
 * Where the inspector's page (HTML, CSS, JavaScript) is, copied there from src/supervisor/inspect/page
 * by the build. At the top of src for the reason supervisor-launch.ts is: the supervisor runs as one
 * bundle, dist/supervisor.js, beside this file's own build, so the path holds from both.
 */
export const INSPECTOR_PAGE_DIR = fileURLToPath(new URL('supervisor/inspect/page/', import.meta.url))
