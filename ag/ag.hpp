// ag in one include: tensors and autograd, nn, optim and data. The installed tree puts this file
// at <prefix>/include/ag/ag.hpp and the folders it includes next to it (include/ag/autograd/...).
#pragma once

#include <autograd/autograd.hpp>
#include <data/data.hpp>
#include <nn/nn.hpp>
#include <optim/optim.hpp>
