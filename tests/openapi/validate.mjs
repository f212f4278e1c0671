// Validates the OpenAPI description served at a URL against the OpenAPI
// JSON schemas, with npm's @seriousme/openapi-schema-validator (an
// implementation independent of semdb's generator).
//   node validate.mjs VALIDATOR_INDEX_JS URL
import { pathToFileURL } from "node:url";

const [modulePath, url] = process.argv.slice(2);
const { Validator } = await import(pathToFileURL(modulePath).href);
const spec = await (await fetch(url)).json();
const validator = new Validator();
const result = await validator.validate(spec);
if (!result.valid) {
  console.error(JSON.stringify(result.errors, null, 2));
  process.exit(1);
}
console.log(`valid OpenAPI ${validator.version}: ${Object.keys(spec.paths).length} paths`);
