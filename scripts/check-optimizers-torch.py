import torch
torch.set_default_dtype(torch.float64)
grads = [torch.tensor([0.5, -1.0]), torch.tensor([0.25, 2.0])]
configs = {
 "sgd": lambda p, wd: torch.optim.SGD([p], lr=0.1, weight_decay=wd),
 "momentum": lambda p, wd: torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=wd),
 "nesterov": lambda p, wd: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=wd),
 "adagrad": lambda p, wd: torch.optim.Adagrad([p], lr=0.1, weight_decay=wd),
 "rmsprop": lambda p, wd: torch.optim.RMSprop([p], lr=0.1, weight_decay=wd),
 "adam": lambda p, wd: torch.optim.Adam([p], lr=0.1, weight_decay=wd),
}
for name, make in configs.items():
    for wd in [0.0, 0.1]:
        p = torch.tensor([1.0, -2.0], requires_grad=True)
        opt = make(p, wd)
        out = []
        for g in grads:
            p.grad = g.clone()
            opt.step()
            out.append([float(v) for v in p.detach()])
        print(name, wd, [[repr(v) for v in s] for s in out])
