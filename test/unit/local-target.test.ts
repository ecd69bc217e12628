import {describe, expect, it} from 'vitest'
import {parseTarget} from '../../src/protocol/local-target.js'

describe('parseTarget', () => {
  it.each([
    ['3000', {port: 3000, scheme: 'http'}],
    ['localhost:3000', {port: 3000, scheme: 'http'}],
    ['LocalHost:3000/', {port: 3000, scheme: 'http'}],
    ['127.0.0.1:3000', {port: 3000, scheme: 'http'}],
    ['[::1]:3000', {port: 3000, scheme: 'http'}],
    ['http://localhost:3000', {port: 3000, scheme: 'http'}],
    ['HTTP://127.0.0.1:3000/', {port: 3000, scheme: 'http'}],
    ['http://[::1]:3000', {port: 3000, scheme: 'http'}],
    ['https://localhost:8443', {port: 8443, scheme: 'https'}],
    ['https://[::1]:8443/', {port: 8443, scheme: 'https'}],
    ['http://localhost', {port: 80, scheme: 'http'}],
    ['https://localhost', {port: 443, scheme: 'https'}],
  ])('reads %s', (raw, target) => {
    expect(parseTarget(raw)).toEqual(target)
  })

  it.each([
    ['example.com:3000', 'is not on this machine'],
    ['http://localhost:3000/app', 'has a path'],
    ['http://localhost:3000/?x=1', 'has a query or fragment'],
    ['ftp://localhost:21', 'is not an http or https URL'],
    ['localhost', 'has no port'],
    ['localhost:65536', 'Port 65536 is out of range'],
    ['http://user@localhost:3000', 'is not a target'],
    ['3000\n', 'is not a target'],
  ])('refuses %j, saying why and what is accepted', (raw, why) => {
    expect(() => parseTarget(raw)).toThrow(why)
    expect(() => parseTarget(raw)).toThrow('Give a local port as 3000, localhost:3000, 127.0.0.1:3000, [::1]:3000, http://localhost:3000 or https://localhost:8443.')
  })
})
