/**
 * Jest's node environment with a plain global object in each test file's context.
 *
 * jest-environment-node 30 makes the context from a Proxy (`createContext(globalProxy.proxy())`,
 * its globals cleanup), so every global a test or the code under test reads (`Math`, `Array`,
 * `Buffer`, `JSON`…) goes through V8's context interceptors and then a Proxy trap: a loop of
 * `Math.max` and `Array.isArray` ran ~50x slower inside jest than in node, and the local
 * pipeline (dynalite, the AWS SDK) ~1.7x slower. Node 22.8+'s `vm.constants.DONT_CONTEXTIFY`
 * creates the context with an ordinary global object instead; everything else (node globals,
 * fake timers, the module mocker) is jest's own setup on that object. What is given up is the
 * globals cleanup between test files, which only frees memory of files that leak globals.
 */
import vm from 'node:vm';
import NodeEnvironment from 'jest-environment-node';

export default class PlainGlobalNodeEnvironment extends NodeEnvironment {
  constructor(config, context) {
    const createContext = vm.createContext;
    vm.createContext = () => createContext(vm.constants.DONT_CONTEXTIFY);
    try {
      super(config, context);
    } finally {
      vm.createContext = createContext;
    }
  }
}
