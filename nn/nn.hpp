// ag::nn: modules, layers, initialisers and losses.
#pragma once

#include <autograd/autograd.hpp>
#include <nn/conv.hpp>
#include <nn/functional.hpp>
#include <nn/init.hpp>
#include <nn/layers.hpp>
#include <nn/module.hpp>
