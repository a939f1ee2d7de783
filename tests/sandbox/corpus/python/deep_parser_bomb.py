# expect: syntax — 5,000 unary minuses and a 1,200-branch elif chain: nesting the parser and compiler recurse on
# without gate: syntax — the worker's compile fails cleanly too
# ruff: noqa

class Bomb(Trait):
    async def execute(self, e):
        x = --------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------1
        if e.x == 0:
            pass
        elif e.x == 1:
            pass
        elif e.x == 2:
            pass
        elif e.x == 3:
            pass
        elif e.x == 4:
            pass
        elif e.x == 5:
            pass
        elif e.x == 6:
            pass
        elif e.x == 7:
            pass
        elif e.x == 8:
            pass
        elif e.x == 9:
            pass
        elif e.x == 10:
            pass
        elif e.x == 11:
            pass
        elif e.x == 12:
            pass
        elif e.x == 13:
            pass
        elif e.x == 14:
            pass
        elif e.x == 15:
            pass
        elif e.x == 16:
            pass
        elif e.x == 17:
            pass
        elif e.x == 18:
            pass
        elif e.x == 19:
            pass
        elif e.x == 20:
            pass
        elif e.x == 21:
            pass
        elif e.x == 22:
            pass
        elif e.x == 23:
            pass
        elif e.x == 24:
            pass
        elif e.x == 25:
            pass
        elif e.x == 26:
            pass
        elif e.x == 27:
            pass
        elif e.x == 28:
            pass
        elif e.x == 29:
            pass
        elif e.x == 30:
            pass
        elif e.x == 31:
            pass
        elif e.x == 32:
            pass
        elif e.x == 33:
            pass
        elif e.x == 34:
            pass
        elif e.x == 35:
            pass
        elif e.x == 36:
            pass
        elif e.x == 37:
            pass
        elif e.x == 38:
            pass
        elif e.x == 39:
            pass
        elif e.x == 40:
            pass
        elif e.x == 41:
            pass
        elif e.x == 42:
            pass
        elif e.x == 43:
            pass
        elif e.x == 44:
            pass
        elif e.x == 45:
            pass
        elif e.x == 46:
            pass
        elif e.x == 47:
            pass
        elif e.x == 48:
            pass
        elif e.x == 49:
            pass
        elif e.x == 50:
            pass
        elif e.x == 51:
            pass
        elif e.x == 52:
            pass
        elif e.x == 53:
            pass
        elif e.x == 54:
            pass
        elif e.x == 55:
            pass
        elif e.x == 56:
            pass
        elif e.x == 57:
            pass
        elif e.x == 58:
            pass
        elif e.x == 59:
            pass
        elif e.x == 60:
            pass
        elif e.x == 61:
            pass
        elif e.x == 62:
            pass
        elif e.x == 63:
            pass
        elif e.x == 64:
            pass
        elif e.x == 65:
            pass
        elif e.x == 66:
            pass
        elif e.x == 67:
            pass
        elif e.x == 68:
            pass
        elif e.x == 69:
            pass
        elif e.x == 70:
            pass
        elif e.x == 71:
            pass
        elif e.x == 72:
            pass
        elif e.x == 73:
            pass
        elif e.x == 74:
            pass
        elif e.x == 75:
            pass
        elif e.x == 76:
            pass
        elif e.x == 77:
            pass
        elif e.x == 78:
            pass
        elif e.x == 79:
            pass
        elif e.x == 80:
            pass
        elif e.x == 81:
            pass
        elif e.x == 82:
            pass
        elif e.x == 83:
            pass
        elif e.x == 84:
            pass
        elif e.x == 85:
            pass
        elif e.x == 86:
            pass
        elif e.x == 87:
            pass
        elif e.x == 88:
            pass
        elif e.x == 89:
            pass
        elif e.x == 90:
            pass
        elif e.x == 91:
            pass
        elif e.x == 92:
            pass
        elif e.x == 93:
            pass
        elif e.x == 94:
            pass
        elif e.x == 95:
            pass
        elif e.x == 96:
            pass
        elif e.x == 97:
            pass
        elif e.x == 98:
            pass
        elif e.x == 99:
            pass
        elif e.x == 100:
            pass
        elif e.x == 101:
            pass
        elif e.x == 102:
            pass
        elif e.x == 103:
            pass
        elif e.x == 104:
            pass
        elif e.x == 105:
            pass
        elif e.x == 106:
            pass
        elif e.x == 107:
            pass
        elif e.x == 108:
            pass
        elif e.x == 109:
            pass
        elif e.x == 110:
            pass
        elif e.x == 111:
            pass
        elif e.x == 112:
            pass
        elif e.x == 113:
            pass
        elif e.x == 114:
            pass
        elif e.x == 115:
            pass
        elif e.x == 116:
            pass
        elif e.x == 117:
            pass
        elif e.x == 118:
            pass
        elif e.x == 119:
            pass
        elif e.x == 120:
            pass
        elif e.x == 121:
            pass
        elif e.x == 122:
            pass
        elif e.x == 123:
            pass
        elif e.x == 124:
            pass
        elif e.x == 125:
            pass
        elif e.x == 126:
            pass
        elif e.x == 127:
            pass
        elif e.x == 128:
            pass
        elif e.x == 129:
            pass
        elif e.x == 130:
            pass
        elif e.x == 131:
            pass
        elif e.x == 132:
            pass
        elif e.x == 133:
            pass
        elif e.x == 134:
            pass
        elif e.x == 135:
            pass
        elif e.x == 136:
            pass
        elif e.x == 137:
            pass
        elif e.x == 138:
            pass
        elif e.x == 139:
            pass
        elif e.x == 140:
            pass
        elif e.x == 141:
            pass
        elif e.x == 142:
            pass
        elif e.x == 143:
            pass
        elif e.x == 144:
            pass
        elif e.x == 145:
            pass
        elif e.x == 146:
            pass
        elif e.x == 147:
            pass
        elif e.x == 148:
            pass
        elif e.x == 149:
            pass
        elif e.x == 150:
            pass
        elif e.x == 151:
            pass
        elif e.x == 152:
            pass
        elif e.x == 153:
            pass
        elif e.x == 154:
            pass
        elif e.x == 155:
            pass
        elif e.x == 156:
            pass
        elif e.x == 157:
            pass
        elif e.x == 158:
            pass
        elif e.x == 159:
            pass
        elif e.x == 160:
            pass
        elif e.x == 161:
            pass
        elif e.x == 162:
            pass
        elif e.x == 163:
            pass
        elif e.x == 164:
            pass
        elif e.x == 165:
            pass
        elif e.x == 166:
            pass
        elif e.x == 167:
            pass
        elif e.x == 168:
            pass
        elif e.x == 169:
            pass
        elif e.x == 170:
            pass
        elif e.x == 171:
            pass
        elif e.x == 172:
            pass
        elif e.x == 173:
            pass
        elif e.x == 174:
            pass
        elif e.x == 175:
            pass
        elif e.x == 176:
            pass
        elif e.x == 177:
            pass
        elif e.x == 178:
            pass
        elif e.x == 179:
            pass
        elif e.x == 180:
            pass
        elif e.x == 181:
            pass
        elif e.x == 182:
            pass
        elif e.x == 183:
            pass
        elif e.x == 184:
            pass
        elif e.x == 185:
            pass
        elif e.x == 186:
            pass
        elif e.x == 187:
            pass
        elif e.x == 188:
            pass
        elif e.x == 189:
            pass
        elif e.x == 190:
            pass
        elif e.x == 191:
            pass
        elif e.x == 192:
            pass
        elif e.x == 193:
            pass
        elif e.x == 194:
            pass
        elif e.x == 195:
            pass
        elif e.x == 196:
            pass
        elif e.x == 197:
            pass
        elif e.x == 198:
            pass
        elif e.x == 199:
            pass
        elif e.x == 200:
            pass
        elif e.x == 201:
            pass
        elif e.x == 202:
            pass
        elif e.x == 203:
            pass
        elif e.x == 204:
            pass
        elif e.x == 205:
            pass
        elif e.x == 206:
            pass
        elif e.x == 207:
            pass
        elif e.x == 208:
            pass
        elif e.x == 209:
            pass
        elif e.x == 210:
            pass
        elif e.x == 211:
            pass
        elif e.x == 212:
            pass
        elif e.x == 213:
            pass
        elif e.x == 214:
            pass
        elif e.x == 215:
            pass
        elif e.x == 216:
            pass
        elif e.x == 217:
            pass
        elif e.x == 218:
            pass
        elif e.x == 219:
            pass
        elif e.x == 220:
            pass
        elif e.x == 221:
            pass
        elif e.x == 222:
            pass
        elif e.x == 223:
            pass
        elif e.x == 224:
            pass
        elif e.x == 225:
            pass
        elif e.x == 226:
            pass
        elif e.x == 227:
            pass
        elif e.x == 228:
            pass
        elif e.x == 229:
            pass
        elif e.x == 230:
            pass
        elif e.x == 231:
            pass
        elif e.x == 232:
            pass
        elif e.x == 233:
            pass
        elif e.x == 234:
            pass
        elif e.x == 235:
            pass
        elif e.x == 236:
            pass
        elif e.x == 237:
            pass
        elif e.x == 238:
            pass
        elif e.x == 239:
            pass
        elif e.x == 240:
            pass
        elif e.x == 241:
            pass
        elif e.x == 242:
            pass
        elif e.x == 243:
            pass
        elif e.x == 244:
            pass
        elif e.x == 245:
            pass
        elif e.x == 246:
            pass
        elif e.x == 247:
            pass
        elif e.x == 248:
            pass
        elif e.x == 249:
            pass
        elif e.x == 250:
            pass
        elif e.x == 251:
            pass
        elif e.x == 252:
            pass
        elif e.x == 253:
            pass
        elif e.x == 254:
            pass
        elif e.x == 255:
            pass
        elif e.x == 256:
            pass
        elif e.x == 257:
            pass
        elif e.x == 258:
            pass
        elif e.x == 259:
            pass
        elif e.x == 260:
            pass
        elif e.x == 261:
            pass
        elif e.x == 262:
            pass
        elif e.x == 263:
            pass
        elif e.x == 264:
            pass
        elif e.x == 265:
            pass
        elif e.x == 266:
            pass
        elif e.x == 267:
            pass
        elif e.x == 268:
            pass
        elif e.x == 269:
            pass
        elif e.x == 270:
            pass
        elif e.x == 271:
            pass
        elif e.x == 272:
            pass
        elif e.x == 273:
            pass
        elif e.x == 274:
            pass
        elif e.x == 275:
            pass
        elif e.x == 276:
            pass
        elif e.x == 277:
            pass
        elif e.x == 278:
            pass
        elif e.x == 279:
            pass
        elif e.x == 280:
            pass
        elif e.x == 281:
            pass
        elif e.x == 282:
            pass
        elif e.x == 283:
            pass
        elif e.x == 284:
            pass
        elif e.x == 285:
            pass
        elif e.x == 286:
            pass
        elif e.x == 287:
            pass
        elif e.x == 288:
            pass
        elif e.x == 289:
            pass
        elif e.x == 290:
            pass
        elif e.x == 291:
            pass
        elif e.x == 292:
            pass
        elif e.x == 293:
            pass
        elif e.x == 294:
            pass
        elif e.x == 295:
            pass
        elif e.x == 296:
            pass
        elif e.x == 297:
            pass
        elif e.x == 298:
            pass
        elif e.x == 299:
            pass
        elif e.x == 300:
            pass
        elif e.x == 301:
            pass
        elif e.x == 302:
            pass
        elif e.x == 303:
            pass
        elif e.x == 304:
            pass
        elif e.x == 305:
            pass
        elif e.x == 306:
            pass
        elif e.x == 307:
            pass
        elif e.x == 308:
            pass
        elif e.x == 309:
            pass
        elif e.x == 310:
            pass
        elif e.x == 311:
            pass
        elif e.x == 312:
            pass
        elif e.x == 313:
            pass
        elif e.x == 314:
            pass
        elif e.x == 315:
            pass
        elif e.x == 316:
            pass
        elif e.x == 317:
            pass
        elif e.x == 318:
            pass
        elif e.x == 319:
            pass
        elif e.x == 320:
            pass
        elif e.x == 321:
            pass
        elif e.x == 322:
            pass
        elif e.x == 323:
            pass
        elif e.x == 324:
            pass
        elif e.x == 325:
            pass
        elif e.x == 326:
            pass
        elif e.x == 327:
            pass
        elif e.x == 328:
            pass
        elif e.x == 329:
            pass
        elif e.x == 330:
            pass
        elif e.x == 331:
            pass
        elif e.x == 332:
            pass
        elif e.x == 333:
            pass
        elif e.x == 334:
            pass
        elif e.x == 335:
            pass
        elif e.x == 336:
            pass
        elif e.x == 337:
            pass
        elif e.x == 338:
            pass
        elif e.x == 339:
            pass
        elif e.x == 340:
            pass
        elif e.x == 341:
            pass
        elif e.x == 342:
            pass
        elif e.x == 343:
            pass
        elif e.x == 344:
            pass
        elif e.x == 345:
            pass
        elif e.x == 346:
            pass
        elif e.x == 347:
            pass
        elif e.x == 348:
            pass
        elif e.x == 349:
            pass
        elif e.x == 350:
            pass
        elif e.x == 351:
            pass
        elif e.x == 352:
            pass
        elif e.x == 353:
            pass
        elif e.x == 354:
            pass
        elif e.x == 355:
            pass
        elif e.x == 356:
            pass
        elif e.x == 357:
            pass
        elif e.x == 358:
            pass
        elif e.x == 359:
            pass
        elif e.x == 360:
            pass
        elif e.x == 361:
            pass
        elif e.x == 362:
            pass
        elif e.x == 363:
            pass
        elif e.x == 364:
            pass
        elif e.x == 365:
            pass
        elif e.x == 366:
            pass
        elif e.x == 367:
            pass
        elif e.x == 368:
            pass
        elif e.x == 369:
            pass
        elif e.x == 370:
            pass
        elif e.x == 371:
            pass
        elif e.x == 372:
            pass
        elif e.x == 373:
            pass
        elif e.x == 374:
            pass
        elif e.x == 375:
            pass
        elif e.x == 376:
            pass
        elif e.x == 377:
            pass
        elif e.x == 378:
            pass
        elif e.x == 379:
            pass
        elif e.x == 380:
            pass
        elif e.x == 381:
            pass
        elif e.x == 382:
            pass
        elif e.x == 383:
            pass
        elif e.x == 384:
            pass
        elif e.x == 385:
            pass
        elif e.x == 386:
            pass
        elif e.x == 387:
            pass
        elif e.x == 388:
            pass
        elif e.x == 389:
            pass
        elif e.x == 390:
            pass
        elif e.x == 391:
            pass
        elif e.x == 392:
            pass
        elif e.x == 393:
            pass
        elif e.x == 394:
            pass
        elif e.x == 395:
            pass
        elif e.x == 396:
            pass
        elif e.x == 397:
            pass
        elif e.x == 398:
            pass
        elif e.x == 399:
            pass
        elif e.x == 400:
            pass
        elif e.x == 401:
            pass
        elif e.x == 402:
            pass
        elif e.x == 403:
            pass
        elif e.x == 404:
            pass
        elif e.x == 405:
            pass
        elif e.x == 406:
            pass
        elif e.x == 407:
            pass
        elif e.x == 408:
            pass
        elif e.x == 409:
            pass
        elif e.x == 410:
            pass
        elif e.x == 411:
            pass
        elif e.x == 412:
            pass
        elif e.x == 413:
            pass
        elif e.x == 414:
            pass
        elif e.x == 415:
            pass
        elif e.x == 416:
            pass
        elif e.x == 417:
            pass
        elif e.x == 418:
            pass
        elif e.x == 419:
            pass
        elif e.x == 420:
            pass
        elif e.x == 421:
            pass
        elif e.x == 422:
            pass
        elif e.x == 423:
            pass
        elif e.x == 424:
            pass
        elif e.x == 425:
            pass
        elif e.x == 426:
            pass
        elif e.x == 427:
            pass
        elif e.x == 428:
            pass
        elif e.x == 429:
            pass
        elif e.x == 430:
            pass
        elif e.x == 431:
            pass
        elif e.x == 432:
            pass
        elif e.x == 433:
            pass
        elif e.x == 434:
            pass
        elif e.x == 435:
            pass
        elif e.x == 436:
            pass
        elif e.x == 437:
            pass
        elif e.x == 438:
            pass
        elif e.x == 439:
            pass
        elif e.x == 440:
            pass
        elif e.x == 441:
            pass
        elif e.x == 442:
            pass
        elif e.x == 443:
            pass
        elif e.x == 444:
            pass
        elif e.x == 445:
            pass
        elif e.x == 446:
            pass
        elif e.x == 447:
            pass
        elif e.x == 448:
            pass
        elif e.x == 449:
            pass
        elif e.x == 450:
            pass
        elif e.x == 451:
            pass
        elif e.x == 452:
            pass
        elif e.x == 453:
            pass
        elif e.x == 454:
            pass
        elif e.x == 455:
            pass
        elif e.x == 456:
            pass
        elif e.x == 457:
            pass
        elif e.x == 458:
            pass
        elif e.x == 459:
            pass
        elif e.x == 460:
            pass
        elif e.x == 461:
            pass
        elif e.x == 462:
            pass
        elif e.x == 463:
            pass
        elif e.x == 464:
            pass
        elif e.x == 465:
            pass
        elif e.x == 466:
            pass
        elif e.x == 467:
            pass
        elif e.x == 468:
            pass
        elif e.x == 469:
            pass
        elif e.x == 470:
            pass
        elif e.x == 471:
            pass
        elif e.x == 472:
            pass
        elif e.x == 473:
            pass
        elif e.x == 474:
            pass
        elif e.x == 475:
            pass
        elif e.x == 476:
            pass
        elif e.x == 477:
            pass
        elif e.x == 478:
            pass
        elif e.x == 479:
            pass
        elif e.x == 480:
            pass
        elif e.x == 481:
            pass
        elif e.x == 482:
            pass
        elif e.x == 483:
            pass
        elif e.x == 484:
            pass
        elif e.x == 485:
            pass
        elif e.x == 486:
            pass
        elif e.x == 487:
            pass
        elif e.x == 488:
            pass
        elif e.x == 489:
            pass
        elif e.x == 490:
            pass
        elif e.x == 491:
            pass
        elif e.x == 492:
            pass
        elif e.x == 493:
            pass
        elif e.x == 494:
            pass
        elif e.x == 495:
            pass
        elif e.x == 496:
            pass
        elif e.x == 497:
            pass
        elif e.x == 498:
            pass
        elif e.x == 499:
            pass
        elif e.x == 500:
            pass
        elif e.x == 501:
            pass
        elif e.x == 502:
            pass
        elif e.x == 503:
            pass
        elif e.x == 504:
            pass
        elif e.x == 505:
            pass
        elif e.x == 506:
            pass
        elif e.x == 507:
            pass
        elif e.x == 508:
            pass
        elif e.x == 509:
            pass
        elif e.x == 510:
            pass
        elif e.x == 511:
            pass
        elif e.x == 512:
            pass
        elif e.x == 513:
            pass
        elif e.x == 514:
            pass
        elif e.x == 515:
            pass
        elif e.x == 516:
            pass
        elif e.x == 517:
            pass
        elif e.x == 518:
            pass
        elif e.x == 519:
            pass
        elif e.x == 520:
            pass
        elif e.x == 521:
            pass
        elif e.x == 522:
            pass
        elif e.x == 523:
            pass
        elif e.x == 524:
            pass
        elif e.x == 525:
            pass
        elif e.x == 526:
            pass
        elif e.x == 527:
            pass
        elif e.x == 528:
            pass
        elif e.x == 529:
            pass
        elif e.x == 530:
            pass
        elif e.x == 531:
            pass
        elif e.x == 532:
            pass
        elif e.x == 533:
            pass
        elif e.x == 534:
            pass
        elif e.x == 535:
            pass
        elif e.x == 536:
            pass
        elif e.x == 537:
            pass
        elif e.x == 538:
            pass
        elif e.x == 539:
            pass
        elif e.x == 540:
            pass
        elif e.x == 541:
            pass
        elif e.x == 542:
            pass
        elif e.x == 543:
            pass
        elif e.x == 544:
            pass
        elif e.x == 545:
            pass
        elif e.x == 546:
            pass
        elif e.x == 547:
            pass
        elif e.x == 548:
            pass
        elif e.x == 549:
            pass
        elif e.x == 550:
            pass
        elif e.x == 551:
            pass
        elif e.x == 552:
            pass
        elif e.x == 553:
            pass
        elif e.x == 554:
            pass
        elif e.x == 555:
            pass
        elif e.x == 556:
            pass
        elif e.x == 557:
            pass
        elif e.x == 558:
            pass
        elif e.x == 559:
            pass
        elif e.x == 560:
            pass
        elif e.x == 561:
            pass
        elif e.x == 562:
            pass
        elif e.x == 563:
            pass
        elif e.x == 564:
            pass
        elif e.x == 565:
            pass
        elif e.x == 566:
            pass
        elif e.x == 567:
            pass
        elif e.x == 568:
            pass
        elif e.x == 569:
            pass
        elif e.x == 570:
            pass
        elif e.x == 571:
            pass
        elif e.x == 572:
            pass
        elif e.x == 573:
            pass
        elif e.x == 574:
            pass
        elif e.x == 575:
            pass
        elif e.x == 576:
            pass
        elif e.x == 577:
            pass
        elif e.x == 578:
            pass
        elif e.x == 579:
            pass
        elif e.x == 580:
            pass
        elif e.x == 581:
            pass
        elif e.x == 582:
            pass
        elif e.x == 583:
            pass
        elif e.x == 584:
            pass
        elif e.x == 585:
            pass
        elif e.x == 586:
            pass
        elif e.x == 587:
            pass
        elif e.x == 588:
            pass
        elif e.x == 589:
            pass
        elif e.x == 590:
            pass
        elif e.x == 591:
            pass
        elif e.x == 592:
            pass
        elif e.x == 593:
            pass
        elif e.x == 594:
            pass
        elif e.x == 595:
            pass
        elif e.x == 596:
            pass
        elif e.x == 597:
            pass
        elif e.x == 598:
            pass
        elif e.x == 599:
            pass
        elif e.x == 600:
            pass
        elif e.x == 601:
            pass
        elif e.x == 602:
            pass
        elif e.x == 603:
            pass
        elif e.x == 604:
            pass
        elif e.x == 605:
            pass
        elif e.x == 606:
            pass
        elif e.x == 607:
            pass
        elif e.x == 608:
            pass
        elif e.x == 609:
            pass
        elif e.x == 610:
            pass
        elif e.x == 611:
            pass
        elif e.x == 612:
            pass
        elif e.x == 613:
            pass
        elif e.x == 614:
            pass
        elif e.x == 615:
            pass
        elif e.x == 616:
            pass
        elif e.x == 617:
            pass
        elif e.x == 618:
            pass
        elif e.x == 619:
            pass
        elif e.x == 620:
            pass
        elif e.x == 621:
            pass
        elif e.x == 622:
            pass
        elif e.x == 623:
            pass
        elif e.x == 624:
            pass
        elif e.x == 625:
            pass
        elif e.x == 626:
            pass
        elif e.x == 627:
            pass
        elif e.x == 628:
            pass
        elif e.x == 629:
            pass
        elif e.x == 630:
            pass
        elif e.x == 631:
            pass
        elif e.x == 632:
            pass
        elif e.x == 633:
            pass
        elif e.x == 634:
            pass
        elif e.x == 635:
            pass
        elif e.x == 636:
            pass
        elif e.x == 637:
            pass
        elif e.x == 638:
            pass
        elif e.x == 639:
            pass
        elif e.x == 640:
            pass
        elif e.x == 641:
            pass
        elif e.x == 642:
            pass
        elif e.x == 643:
            pass
        elif e.x == 644:
            pass
        elif e.x == 645:
            pass
        elif e.x == 646:
            pass
        elif e.x == 647:
            pass
        elif e.x == 648:
            pass
        elif e.x == 649:
            pass
        elif e.x == 650:
            pass
        elif e.x == 651:
            pass
        elif e.x == 652:
            pass
        elif e.x == 653:
            pass
        elif e.x == 654:
            pass
        elif e.x == 655:
            pass
        elif e.x == 656:
            pass
        elif e.x == 657:
            pass
        elif e.x == 658:
            pass
        elif e.x == 659:
            pass
        elif e.x == 660:
            pass
        elif e.x == 661:
            pass
        elif e.x == 662:
            pass
        elif e.x == 663:
            pass
        elif e.x == 664:
            pass
        elif e.x == 665:
            pass
        elif e.x == 666:
            pass
        elif e.x == 667:
            pass
        elif e.x == 668:
            pass
        elif e.x == 669:
            pass
        elif e.x == 670:
            pass
        elif e.x == 671:
            pass
        elif e.x == 672:
            pass
        elif e.x == 673:
            pass
        elif e.x == 674:
            pass
        elif e.x == 675:
            pass
        elif e.x == 676:
            pass
        elif e.x == 677:
            pass
        elif e.x == 678:
            pass
        elif e.x == 679:
            pass
        elif e.x == 680:
            pass
        elif e.x == 681:
            pass
        elif e.x == 682:
            pass
        elif e.x == 683:
            pass
        elif e.x == 684:
            pass
        elif e.x == 685:
            pass
        elif e.x == 686:
            pass
        elif e.x == 687:
            pass
        elif e.x == 688:
            pass
        elif e.x == 689:
            pass
        elif e.x == 690:
            pass
        elif e.x == 691:
            pass
        elif e.x == 692:
            pass
        elif e.x == 693:
            pass
        elif e.x == 694:
            pass
        elif e.x == 695:
            pass
        elif e.x == 696:
            pass
        elif e.x == 697:
            pass
        elif e.x == 698:
            pass
        elif e.x == 699:
            pass
        elif e.x == 700:
            pass
        elif e.x == 701:
            pass
        elif e.x == 702:
            pass
        elif e.x == 703:
            pass
        elif e.x == 704:
            pass
        elif e.x == 705:
            pass
        elif e.x == 706:
            pass
        elif e.x == 707:
            pass
        elif e.x == 708:
            pass
        elif e.x == 709:
            pass
        elif e.x == 710:
            pass
        elif e.x == 711:
            pass
        elif e.x == 712:
            pass
        elif e.x == 713:
            pass
        elif e.x == 714:
            pass
        elif e.x == 715:
            pass
        elif e.x == 716:
            pass
        elif e.x == 717:
            pass
        elif e.x == 718:
            pass
        elif e.x == 719:
            pass
        elif e.x == 720:
            pass
        elif e.x == 721:
            pass
        elif e.x == 722:
            pass
        elif e.x == 723:
            pass
        elif e.x == 724:
            pass
        elif e.x == 725:
            pass
        elif e.x == 726:
            pass
        elif e.x == 727:
            pass
        elif e.x == 728:
            pass
        elif e.x == 729:
            pass
        elif e.x == 730:
            pass
        elif e.x == 731:
            pass
        elif e.x == 732:
            pass
        elif e.x == 733:
            pass
        elif e.x == 734:
            pass
        elif e.x == 735:
            pass
        elif e.x == 736:
            pass
        elif e.x == 737:
            pass
        elif e.x == 738:
            pass
        elif e.x == 739:
            pass
        elif e.x == 740:
            pass
        elif e.x == 741:
            pass
        elif e.x == 742:
            pass
        elif e.x == 743:
            pass
        elif e.x == 744:
            pass
        elif e.x == 745:
            pass
        elif e.x == 746:
            pass
        elif e.x == 747:
            pass
        elif e.x == 748:
            pass
        elif e.x == 749:
            pass
        elif e.x == 750:
            pass
        elif e.x == 751:
            pass
        elif e.x == 752:
            pass
        elif e.x == 753:
            pass
        elif e.x == 754:
            pass
        elif e.x == 755:
            pass
        elif e.x == 756:
            pass
        elif e.x == 757:
            pass
        elif e.x == 758:
            pass
        elif e.x == 759:
            pass
        elif e.x == 760:
            pass
        elif e.x == 761:
            pass
        elif e.x == 762:
            pass
        elif e.x == 763:
            pass
        elif e.x == 764:
            pass
        elif e.x == 765:
            pass
        elif e.x == 766:
            pass
        elif e.x == 767:
            pass
        elif e.x == 768:
            pass
        elif e.x == 769:
            pass
        elif e.x == 770:
            pass
        elif e.x == 771:
            pass
        elif e.x == 772:
            pass
        elif e.x == 773:
            pass
        elif e.x == 774:
            pass
        elif e.x == 775:
            pass
        elif e.x == 776:
            pass
        elif e.x == 777:
            pass
        elif e.x == 778:
            pass
        elif e.x == 779:
            pass
        elif e.x == 780:
            pass
        elif e.x == 781:
            pass
        elif e.x == 782:
            pass
        elif e.x == 783:
            pass
        elif e.x == 784:
            pass
        elif e.x == 785:
            pass
        elif e.x == 786:
            pass
        elif e.x == 787:
            pass
        elif e.x == 788:
            pass
        elif e.x == 789:
            pass
        elif e.x == 790:
            pass
        elif e.x == 791:
            pass
        elif e.x == 792:
            pass
        elif e.x == 793:
            pass
        elif e.x == 794:
            pass
        elif e.x == 795:
            pass
        elif e.x == 796:
            pass
        elif e.x == 797:
            pass
        elif e.x == 798:
            pass
        elif e.x == 799:
            pass
        elif e.x == 800:
            pass
        elif e.x == 801:
            pass
        elif e.x == 802:
            pass
        elif e.x == 803:
            pass
        elif e.x == 804:
            pass
        elif e.x == 805:
            pass
        elif e.x == 806:
            pass
        elif e.x == 807:
            pass
        elif e.x == 808:
            pass
        elif e.x == 809:
            pass
        elif e.x == 810:
            pass
        elif e.x == 811:
            pass
        elif e.x == 812:
            pass
        elif e.x == 813:
            pass
        elif e.x == 814:
            pass
        elif e.x == 815:
            pass
        elif e.x == 816:
            pass
        elif e.x == 817:
            pass
        elif e.x == 818:
            pass
        elif e.x == 819:
            pass
        elif e.x == 820:
            pass
        elif e.x == 821:
            pass
        elif e.x == 822:
            pass
        elif e.x == 823:
            pass
        elif e.x == 824:
            pass
        elif e.x == 825:
            pass
        elif e.x == 826:
            pass
        elif e.x == 827:
            pass
        elif e.x == 828:
            pass
        elif e.x == 829:
            pass
        elif e.x == 830:
            pass
        elif e.x == 831:
            pass
        elif e.x == 832:
            pass
        elif e.x == 833:
            pass
        elif e.x == 834:
            pass
        elif e.x == 835:
            pass
        elif e.x == 836:
            pass
        elif e.x == 837:
            pass
        elif e.x == 838:
            pass
        elif e.x == 839:
            pass
        elif e.x == 840:
            pass
        elif e.x == 841:
            pass
        elif e.x == 842:
            pass
        elif e.x == 843:
            pass
        elif e.x == 844:
            pass
        elif e.x == 845:
            pass
        elif e.x == 846:
            pass
        elif e.x == 847:
            pass
        elif e.x == 848:
            pass
        elif e.x == 849:
            pass
        elif e.x == 850:
            pass
        elif e.x == 851:
            pass
        elif e.x == 852:
            pass
        elif e.x == 853:
            pass
        elif e.x == 854:
            pass
        elif e.x == 855:
            pass
        elif e.x == 856:
            pass
        elif e.x == 857:
            pass
        elif e.x == 858:
            pass
        elif e.x == 859:
            pass
        elif e.x == 860:
            pass
        elif e.x == 861:
            pass
        elif e.x == 862:
            pass
        elif e.x == 863:
            pass
        elif e.x == 864:
            pass
        elif e.x == 865:
            pass
        elif e.x == 866:
            pass
        elif e.x == 867:
            pass
        elif e.x == 868:
            pass
        elif e.x == 869:
            pass
        elif e.x == 870:
            pass
        elif e.x == 871:
            pass
        elif e.x == 872:
            pass
        elif e.x == 873:
            pass
        elif e.x == 874:
            pass
        elif e.x == 875:
            pass
        elif e.x == 876:
            pass
        elif e.x == 877:
            pass
        elif e.x == 878:
            pass
        elif e.x == 879:
            pass
        elif e.x == 880:
            pass
        elif e.x == 881:
            pass
        elif e.x == 882:
            pass
        elif e.x == 883:
            pass
        elif e.x == 884:
            pass
        elif e.x == 885:
            pass
        elif e.x == 886:
            pass
        elif e.x == 887:
            pass
        elif e.x == 888:
            pass
        elif e.x == 889:
            pass
        elif e.x == 890:
            pass
        elif e.x == 891:
            pass
        elif e.x == 892:
            pass
        elif e.x == 893:
            pass
        elif e.x == 894:
            pass
        elif e.x == 895:
            pass
        elif e.x == 896:
            pass
        elif e.x == 897:
            pass
        elif e.x == 898:
            pass
        elif e.x == 899:
            pass
        elif e.x == 900:
            pass
        elif e.x == 901:
            pass
        elif e.x == 902:
            pass
        elif e.x == 903:
            pass
        elif e.x == 904:
            pass
        elif e.x == 905:
            pass
        elif e.x == 906:
            pass
        elif e.x == 907:
            pass
        elif e.x == 908:
            pass
        elif e.x == 909:
            pass
        elif e.x == 910:
            pass
        elif e.x == 911:
            pass
        elif e.x == 912:
            pass
        elif e.x == 913:
            pass
        elif e.x == 914:
            pass
        elif e.x == 915:
            pass
        elif e.x == 916:
            pass
        elif e.x == 917:
            pass
        elif e.x == 918:
            pass
        elif e.x == 919:
            pass
        elif e.x == 920:
            pass
        elif e.x == 921:
            pass
        elif e.x == 922:
            pass
        elif e.x == 923:
            pass
        elif e.x == 924:
            pass
        elif e.x == 925:
            pass
        elif e.x == 926:
            pass
        elif e.x == 927:
            pass
        elif e.x == 928:
            pass
        elif e.x == 929:
            pass
        elif e.x == 930:
            pass
        elif e.x == 931:
            pass
        elif e.x == 932:
            pass
        elif e.x == 933:
            pass
        elif e.x == 934:
            pass
        elif e.x == 935:
            pass
        elif e.x == 936:
            pass
        elif e.x == 937:
            pass
        elif e.x == 938:
            pass
        elif e.x == 939:
            pass
        elif e.x == 940:
            pass
        elif e.x == 941:
            pass
        elif e.x == 942:
            pass
        elif e.x == 943:
            pass
        elif e.x == 944:
            pass
        elif e.x == 945:
            pass
        elif e.x == 946:
            pass
        elif e.x == 947:
            pass
        elif e.x == 948:
            pass
        elif e.x == 949:
            pass
        elif e.x == 950:
            pass
        elif e.x == 951:
            pass
        elif e.x == 952:
            pass
        elif e.x == 953:
            pass
        elif e.x == 954:
            pass
        elif e.x == 955:
            pass
        elif e.x == 956:
            pass
        elif e.x == 957:
            pass
        elif e.x == 958:
            pass
        elif e.x == 959:
            pass
        elif e.x == 960:
            pass
        elif e.x == 961:
            pass
        elif e.x == 962:
            pass
        elif e.x == 963:
            pass
        elif e.x == 964:
            pass
        elif e.x == 965:
            pass
        elif e.x == 966:
            pass
        elif e.x == 967:
            pass
        elif e.x == 968:
            pass
        elif e.x == 969:
            pass
        elif e.x == 970:
            pass
        elif e.x == 971:
            pass
        elif e.x == 972:
            pass
        elif e.x == 973:
            pass
        elif e.x == 974:
            pass
        elif e.x == 975:
            pass
        elif e.x == 976:
            pass
        elif e.x == 977:
            pass
        elif e.x == 978:
            pass
        elif e.x == 979:
            pass
        elif e.x == 980:
            pass
        elif e.x == 981:
            pass
        elif e.x == 982:
            pass
        elif e.x == 983:
            pass
        elif e.x == 984:
            pass
        elif e.x == 985:
            pass
        elif e.x == 986:
            pass
        elif e.x == 987:
            pass
        elif e.x == 988:
            pass
        elif e.x == 989:
            pass
        elif e.x == 990:
            pass
        elif e.x == 991:
            pass
        elif e.x == 992:
            pass
        elif e.x == 993:
            pass
        elif e.x == 994:
            pass
        elif e.x == 995:
            pass
        elif e.x == 996:
            pass
        elif e.x == 997:
            pass
        elif e.x == 998:
            pass
        elif e.x == 999:
            pass
        elif e.x == 1000:
            pass
        elif e.x == 1001:
            pass
        elif e.x == 1002:
            pass
        elif e.x == 1003:
            pass
        elif e.x == 1004:
            pass
        elif e.x == 1005:
            pass
        elif e.x == 1006:
            pass
        elif e.x == 1007:
            pass
        elif e.x == 1008:
            pass
        elif e.x == 1009:
            pass
        elif e.x == 1010:
            pass
        elif e.x == 1011:
            pass
        elif e.x == 1012:
            pass
        elif e.x == 1013:
            pass
        elif e.x == 1014:
            pass
        elif e.x == 1015:
            pass
        elif e.x == 1016:
            pass
        elif e.x == 1017:
            pass
        elif e.x == 1018:
            pass
        elif e.x == 1019:
            pass
        elif e.x == 1020:
            pass
        elif e.x == 1021:
            pass
        elif e.x == 1022:
            pass
        elif e.x == 1023:
            pass
        elif e.x == 1024:
            pass
        elif e.x == 1025:
            pass
        elif e.x == 1026:
            pass
        elif e.x == 1027:
            pass
        elif e.x == 1028:
            pass
        elif e.x == 1029:
            pass
        elif e.x == 1030:
            pass
        elif e.x == 1031:
            pass
        elif e.x == 1032:
            pass
        elif e.x == 1033:
            pass
        elif e.x == 1034:
            pass
        elif e.x == 1035:
            pass
        elif e.x == 1036:
            pass
        elif e.x == 1037:
            pass
        elif e.x == 1038:
            pass
        elif e.x == 1039:
            pass
        elif e.x == 1040:
            pass
        elif e.x == 1041:
            pass
        elif e.x == 1042:
            pass
        elif e.x == 1043:
            pass
        elif e.x == 1044:
            pass
        elif e.x == 1045:
            pass
        elif e.x == 1046:
            pass
        elif e.x == 1047:
            pass
        elif e.x == 1048:
            pass
        elif e.x == 1049:
            pass
        elif e.x == 1050:
            pass
        elif e.x == 1051:
            pass
        elif e.x == 1052:
            pass
        elif e.x == 1053:
            pass
        elif e.x == 1054:
            pass
        elif e.x == 1055:
            pass
        elif e.x == 1056:
            pass
        elif e.x == 1057:
            pass
        elif e.x == 1058:
            pass
        elif e.x == 1059:
            pass
        elif e.x == 1060:
            pass
        elif e.x == 1061:
            pass
        elif e.x == 1062:
            pass
        elif e.x == 1063:
            pass
        elif e.x == 1064:
            pass
        elif e.x == 1065:
            pass
        elif e.x == 1066:
            pass
        elif e.x == 1067:
            pass
        elif e.x == 1068:
            pass
        elif e.x == 1069:
            pass
        elif e.x == 1070:
            pass
        elif e.x == 1071:
            pass
        elif e.x == 1072:
            pass
        elif e.x == 1073:
            pass
        elif e.x == 1074:
            pass
        elif e.x == 1075:
            pass
        elif e.x == 1076:
            pass
        elif e.x == 1077:
            pass
        elif e.x == 1078:
            pass
        elif e.x == 1079:
            pass
        elif e.x == 1080:
            pass
        elif e.x == 1081:
            pass
        elif e.x == 1082:
            pass
        elif e.x == 1083:
            pass
        elif e.x == 1084:
            pass
        elif e.x == 1085:
            pass
        elif e.x == 1086:
            pass
        elif e.x == 1087:
            pass
        elif e.x == 1088:
            pass
        elif e.x == 1089:
            pass
        elif e.x == 1090:
            pass
        elif e.x == 1091:
            pass
        elif e.x == 1092:
            pass
        elif e.x == 1093:
            pass
        elif e.x == 1094:
            pass
        elif e.x == 1095:
            pass
        elif e.x == 1096:
            pass
        elif e.x == 1097:
            pass
        elif e.x == 1098:
            pass
        elif e.x == 1099:
            pass
        elif e.x == 1100:
            pass
        elif e.x == 1101:
            pass
        elif e.x == 1102:
            pass
        elif e.x == 1103:
            pass
        elif e.x == 1104:
            pass
        elif e.x == 1105:
            pass
        elif e.x == 1106:
            pass
        elif e.x == 1107:
            pass
        elif e.x == 1108:
            pass
        elif e.x == 1109:
            pass
        elif e.x == 1110:
            pass
        elif e.x == 1111:
            pass
        elif e.x == 1112:
            pass
        elif e.x == 1113:
            pass
        elif e.x == 1114:
            pass
        elif e.x == 1115:
            pass
        elif e.x == 1116:
            pass
        elif e.x == 1117:
            pass
        elif e.x == 1118:
            pass
        elif e.x == 1119:
            pass
        elif e.x == 1120:
            pass
        elif e.x == 1121:
            pass
        elif e.x == 1122:
            pass
        elif e.x == 1123:
            pass
        elif e.x == 1124:
            pass
        elif e.x == 1125:
            pass
        elif e.x == 1126:
            pass
        elif e.x == 1127:
            pass
        elif e.x == 1128:
            pass
        elif e.x == 1129:
            pass
        elif e.x == 1130:
            pass
        elif e.x == 1131:
            pass
        elif e.x == 1132:
            pass
        elif e.x == 1133:
            pass
        elif e.x == 1134:
            pass
        elif e.x == 1135:
            pass
        elif e.x == 1136:
            pass
        elif e.x == 1137:
            pass
        elif e.x == 1138:
            pass
        elif e.x == 1139:
            pass
        elif e.x == 1140:
            pass
        elif e.x == 1141:
            pass
        elif e.x == 1142:
            pass
        elif e.x == 1143:
            pass
        elif e.x == 1144:
            pass
        elif e.x == 1145:
            pass
        elif e.x == 1146:
            pass
        elif e.x == 1147:
            pass
        elif e.x == 1148:
            pass
        elif e.x == 1149:
            pass
        elif e.x == 1150:
            pass
        elif e.x == 1151:
            pass
        elif e.x == 1152:
            pass
        elif e.x == 1153:
            pass
        elif e.x == 1154:
            pass
        elif e.x == 1155:
            pass
        elif e.x == 1156:
            pass
        elif e.x == 1157:
            pass
        elif e.x == 1158:
            pass
        elif e.x == 1159:
            pass
        elif e.x == 1160:
            pass
        elif e.x == 1161:
            pass
        elif e.x == 1162:
            pass
        elif e.x == 1163:
            pass
        elif e.x == 1164:
            pass
        elif e.x == 1165:
            pass
        elif e.x == 1166:
            pass
        elif e.x == 1167:
            pass
        elif e.x == 1168:
            pass
        elif e.x == 1169:
            pass
        elif e.x == 1170:
            pass
        elif e.x == 1171:
            pass
        elif e.x == 1172:
            pass
        elif e.x == 1173:
            pass
        elif e.x == 1174:
            pass
        elif e.x == 1175:
            pass
        elif e.x == 1176:
            pass
        elif e.x == 1177:
            pass
        elif e.x == 1178:
            pass
        elif e.x == 1179:
            pass
        elif e.x == 1180:
            pass
        elif e.x == 1181:
            pass
        elif e.x == 1182:
            pass
        elif e.x == 1183:
            pass
        elif e.x == 1184:
            pass
        elif e.x == 1185:
            pass
        elif e.x == 1186:
            pass
        elif e.x == 1187:
            pass
        elif e.x == 1188:
            pass
        elif e.x == 1189:
            pass
        elif e.x == 1190:
            pass
        elif e.x == 1191:
            pass
        elif e.x == 1192:
            pass
        elif e.x == 1193:
            pass
        elif e.x == 1194:
            pass
        elif e.x == 1195:
            pass
        elif e.x == 1196:
            pass
        elif e.x == 1197:
            pass
        elif e.x == 1198:
            pass
        elif e.x == 1199:
            pass
