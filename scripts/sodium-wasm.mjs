/**
 * @module scripts/sodium-wasm
 * Writes src/crypto/sodium-wasm.ts: libsodium's own WASM (the sumo build of `libsodium-sumo`,
 * a devDependency pinned to one version) with every export we never call removed.
 *
 *   node scripts/sodium-wasm.mjs           regenerate the file
 *   node scripts/sodium-wasm.mjs --check   exit 1 if the file does not hold what this script
 *                                          makes (test/crypto/sodium-wasm.test.ts runs it)
 *
 * Why: the sumo WASM exports ~700 functions (password hashing, ML-KEM, AEGIS, boxes, …) and
 * weighs 285 KB; we call 22 of them. Removing the other exports and then whatever code only
 * they reached (binaryen's `remove-unused-module-elements`, no optimisation pass: every kept
 * function is libsodium's compiled code as shipped) leaves ~109 KB. It is stored deflated, then
 * base64: gzip cannot undo base64 well (6 bits a character), so compressing first is ~12 KiB
 * smaller once the bundle is gzipped; the loader inflates it with DecompressionStream.
 * Together that takes ~100 KiB off the gzipped browser bundle. We need sumo, not the standard build, for
 * `crypto_scalarmult_ed25519_noclamp` (Noise DH, §5.3) and `crypto_stream_xsalsa20_xor_ic`
 * (block encryption, §4); trimming the sumo build ends up smaller than the standard one anyway.
 *
 * Exports are renamed from emscripten's minified names (`Oi`) to the C names, so the loader
 * (src/crypto/sodium.ts) needs none of emscripten's glue. The glue's four imports are found by
 * their WASM signatures, and the two EM_ASM snippets (libsodium's randombytes asks JS for a
 * random u32, and checks once that a source exists) by their text in the glue; a libsodium
 * update that changes either fails here, loudly, rather than at run time.
 *
 * To call another libsodium function: add it to EXPORTS, run this script, and type it in
 * `RawSodium` (src/crypto/sodium.ts).
 */
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import binaryen from 'binaryen'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const OUT = path.join(root, 'src/crypto/sodium-wasm.ts')

/** The libsodium functions the library calls (without emscripten's leading underscore). */
export const EXPORTS = [
  'sodium_init', 'malloc', 'free',
  // BLAKE2b (crypto/hash.ts)
  'crypto_generichash', 'crypto_generichash_statebytes', 'crypto_generichash_init',
  'crypto_generichash_update', 'crypto_generichash_final',
  // Ed25519 (crypto/sign.ts)
  'crypto_sign_seed_keypair', 'crypto_sign_detached', 'crypto_sign_verify_detached',
  // XSalsa20 (crypto/block-encryption.ts)
  'crypto_stream_xsalsa20_xor_ic',
  // Noise (crypto/noise-primitives.ts)
  'crypto_hash_sha512', 'crypto_scalarmult_ed25519_noclamp',
  'crypto_aead_chacha20poly1305_ietf_encrypt', 'crypto_aead_chacha20poly1305_ietf_decrypt',
  // secretstream (replication/secret-stream/cipher-wasm.ts)
  'crypto_secretstream_xchacha20poly1305_statebytes', 'crypto_secretstream_xchacha20poly1305_init_push',
  'crypto_secretstream_xchacha20poly1305_init_pull', 'crypto_secretstream_xchacha20poly1305_push',
  'crypto_secretstream_xchacha20poly1305_pull', 'crypto_secretstream_xchacha20poly1305_rekey',
  'crypto_stream_chacha20_ietf'
]

/** emscripten's JS imports, told apart by their WASM signature (params → results). */
const IMPORT_SIGNATURES = {
  assertFail: 'i32,i32,i32,i32->none', // __assert_fail(cond, file, line, func)
  asmConst: 'i32,i32,i32->i32', // emscripten_asm_const_int(code, sigPtr, argbuf): EM_ASM
  abort: '->none', // abort()
  resizeHeap: 'i32->i32' // emscripten_resize_heap(requestedSize)
}

const FEATURES = binaryen.Features.MutableGlobals | binaryen.Features.NontrappingFPToInt |
  binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt | binaryen.Features.SignExt

function fail (msg) {
  throw new Error(`scripts/sodium-wasm: ${msg} (libsodium-sumo changed? review this script)`)
}

function typeNames (t) {
  return binaryen.expandType(t).map(x => ({ [binaryen.i32]: 'i32', [binaryen.i64]: 'i64', [binaryen.f32]: 'f32', [binaryen.f64]: 'f64' })[x] ?? '?').join(',')
}

/**
 * The generated module's text and the trimmed WASM. The WASM is deterministic for one
 * libsodium-sumo and binaryen version; its deflated form may differ with Node's zlib, which
 * is why `--check` compares inflated bytes.
 */
export function generate () {
  // The package exports no ./package.json; its CommonJS entry is dist/modules-sumo/*.js.
  const pkgDir = path.resolve(path.dirname(require.resolve('libsodium-sumo')), '../..')
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'))
  if (pkg.name !== 'libsodium-sumo') fail(`found ${pkg.name} instead of libsodium-sumo`)
  const glue = fs.readFileSync(path.join(pkgDir, 'dist/modules-sumo-esm/libsodium-sumo.mjs'), 'utf8')
  const license = fs.readFileSync(path.join(pkgDir, 'LICENSE'), 'utf8').trim()

  const blobs = [...glue.matchAll(/"([A-Za-z0-9+/]{10000,}={0,2})"/g)]
  if (blobs.length !== 1) fail(`expected one base64 WASM in the glue, found ${blobs.length}`)
  const wasm = Buffer.from(blobs[0][1], 'base64')

  // `g._crypto_sign_detached=A.Nh`: the C name of each minified export.
  const minified = new Map([...glue.matchAll(/\bg\._(\w+)=A\.([\w$]+)/g)].map(m => [m[1], m[2]]))
  for (const name of EXPORTS) if (!minified.has(name)) fail(`no export for ${name}`)

  // EM_ASM snippets by address: `d={40712:()=>g.getRandomValue(),40748:()=>{if(void 0===g.getRandomValue)…`
  const asm = glue.match(/\b\w=\{(\d+):\(\)=>g\.getRandomValue\(\),(\d+):\(\)=>\{if\(void 0===g\.getRandomValue\)/)
  if (asm === null) fail('EM_ASM table not found')
  if ((glue.match(/\d+:\(\)=>/g) ?? []).length !== 2) fail('expected exactly two EM_ASM snippets')
  const asmConst = { randomU32: Number(asm[1]), randomInit: Number(asm[2]) }

  const mod = binaryen.readBinary(wasm)
  // The build has no target_features section; these are the post-MVP features its code uses
  // (emscripten's defaults), which binaryen's validator must be told about.
  mod.setFeatures(FEATURES)
  try {
    const imports = {}
    let importModule = null
    for (let i = 0; i < mod.getNumFunctions(); i++) {
      const f = binaryen.getFunctionInfo(mod.getFunctionByIndex(i))
      if (f.module === '') continue
      const sig = `${typeNames(f.params)}->${f.results === binaryen.none ? 'none' : typeNames(f.results)}`
      const role = Object.keys(IMPORT_SIGNATURES).find(k => IMPORT_SIGNATURES[k] === sig)
      if (role === undefined || role in imports) fail(`unexpected import ${f.module}.${f.base} (${sig})`)
      if (importModule !== null && importModule !== f.module) fail('imports from two modules')
      importModule = f.module
      imports[role] = f.base
    }
    if (Object.keys(imports).length !== 4) fail(`expected 4 imports, found ${Object.keys(imports).length}`)

    const keep = new Map(EXPORTS.map(name => [minified.get(name), name]))
    const exports = []
    for (let i = 0; i < mod.getNumExports(); i++) exports.push(binaryen.getExportInfo(mod.getExportByIndex(i)))
    for (const e of exports) {
      mod.removeExport(e.name)
      if (e.kind === binaryen.ExternalMemory) mod.addMemoryExport(e.value, 'memory')
      else if (e.kind === binaryen.ExternalFunction && keep.has(e.name)) mod.addFunctionExport(e.value, keep.get(e.name))
      else if (e.kind !== binaryen.ExternalFunction) fail(`unexpected export kind ${e.kind}`)
    }
    mod.runPasses(['remove-unused-module-elements'])
    if (!mod.validate()) fail('the trimmed module does not validate')
    const trimmed = Buffer.from(mod.emitBinary())
    if (!WebAssembly.validate(trimmed)) fail('this engine refuses the trimmed module')

    const text = `/**
 * @module crypto/sodium-wasm
 * GENERATED by scripts/sodium-wasm.mjs from libsodium-sumo@${pkg.version}: do not edit, run
 * \`npm run sodium-wasm\`. libsodium's WASM with only the exports we call (${trimmed.length} bytes;
 * the full sumo build is ${wasm.length}), exports renamed to their C names, deflated (zlib format).
 *
 * libsodium.js, whose WASM this is:
${license.split('\n').map(l => ` *   ${l}`.trimEnd()).join('\n')}
 */

/** The import module and the names emscripten gave its four imports. */
export const IMPORTS = ${JSON.stringify({ module: importModule, ...imports })} as const

/** The EM_ASM ids libsodium's randombytes calls: one random u32, and "is there a source?". */
export const ASM_CONST = ${JSON.stringify(asmConst)} as const

/** The exported functions (C names; emscripten's JS glue prefixes them with \`_\`). */
export const EXPORTS = ${JSON.stringify(EXPORTS)} as const

/** The WASM, deflated (RFC 1950), in base64 (typed \`string\` so declarations do not copy it). */
export const WASM_DEFLATED_BASE64: string = '${zlib.deflateSync(trimmed, { level: 9 }).toString('base64')}'
`
    return { text, wasm: trimmed }
  } finally {
    mod.dispose()
  }
}

const BLOB = /^export const WASM_DEFLATED_BASE64: string = '([A-Za-z0-9+/=]*)'$/m

/** True when `current` (the file's text) holds what `generate()` made: same text, same inflated WASM. */
export function matches (current, { text, wasm }) {
  const have = current.match(BLOB)
  if (have === null) return false
  const strip = t => t.replace(BLOB, '')
  return strip(current) === strip(text) && zlib.inflateSync(Buffer.from(have[1], 'base64')).equals(wasm)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { text, wasm } = generate()
  if (process.argv.includes('--check')) {
    const current = fs.existsSync(OUT) ? fs.readFileSync(OUT, 'utf8') : ''
    if (!matches(current, { text, wasm })) {
      console.error('src/crypto/sodium-wasm.ts is stale: run `npm run sodium-wasm`')
      process.exitCode = 1
    }
  } else {
    fs.writeFileSync(OUT, text)
    console.log(`wrote ${path.relative(root, OUT)} (${text.length} bytes)`)
  }
}
