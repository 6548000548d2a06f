// The typed client is generated from the checked-in OpenAPI document of the console
// (docs/openapi/console.json, itself checked against the code by `make check-docs`). This
// regenerates it in memory and fails when src/api/schema.d.ts differs: a route that changed
// without `npm run gen:api` breaks the build and the lint.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import openapiTS, { astToString } from 'openapi-typescript'

const doc = new URL('../../../../docs/openapi/console.json', import.meta.url)
const generated = new URL('../src/api/schema.d.ts', import.meta.url)
const ast = await openapiTS(JSON.parse(readFileSync(doc, 'utf8')))
const fresh = astToString(ast)
const header = readFileSync(generated, 'utf8')
const normalise = (s) => s.replace(/^\/\*\*[\s\S]*?\*\/\s*/, '').replace(/\s+/g, ' ').trim()
if (normalise(header) !== normalise(fresh)) {
  console.error(
    `src/api/schema.d.ts is stale against ${fileURLToPath(doc)}: run \`npm run gen:api\` and commit it`,
  )
  process.exit(1)
}
console.log('typed API client matches docs/openapi/console.json')
