import ChainruleCore
import Foundation

print("benchmarks: none yet")
