# GPU load for test/gpu/check.sh: phases of bf16 matrix products on GPU 0.
# argv: a list of phase specs "idle:S" | "full:S" | "duty:S:F" (busy fraction F of each 200 ms).
import sys, time
import torch

def run(seconds, fraction):
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    end = time.time() + seconds
    while time.time() < end:
        slot = time.time()
        while time.time() - slot < 0.2 * fraction:
            for _ in range(4):
                a @ b
            torch.cuda.synchronize()
        rest = 0.2 - (time.time() - slot)
        if rest > 0:
            time.sleep(rest)

torch.zeros(1, device="cuda")
torch.cuda.synchronize()
print("ready", time.time(), flush=True)
for spec in sys.argv[1:]:
    kind, *args = spec.split(":")
    print("phase", kind, time.time(), flush=True)
    if kind == "idle":
        time.sleep(float(args[0]))
    elif kind == "full":
        run(float(args[0]), 1.0)
    elif kind == "duty":
        run(float(args[0]), float(args[1]))
print("done", time.time(), flush=True)
